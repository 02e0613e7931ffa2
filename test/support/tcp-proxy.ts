// A cuttable TCP hop between a service under test and a shared server: the test takes the dependency
// away from that service only, and the shared server keeps serving everyone else.
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';

/** A TCP proxy on a random 127.0.0.1 port that a test can cut (refuse + drop) and restore. */
export async function tcpProxy(targetPort: number): Promise<{
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const make = () =>
    createServer((c) => {
      const up = connect(targetPort, '127.0.0.1');
      sockets.add(c);
      sockets.add(up);
      c.pipe(up).pipe(c);
      const end = () => {
        c.destroy();
        up.destroy();
        sockets.delete(c);
        sockets.delete(up);
      };
      c.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
    });
  let server = make();
  let up = true;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((r) => {
      if (!up) return r();
      up = false;
      server.close(() => r());
      for (const s of sockets) s.destroy();
      sockets.clear();
    });
  return {
    port,
    cut: stop,
    async restore() {
      if (up) return;
      server = make();
      await new Promise<void>((r, j) => server.once('error', j).listen(port, '127.0.0.1', () => r()));
      up = true;
    },
    close: stop,
  };
}
