#!/usr/bin/env bash
# go_build_pinned NAME MODULE_DIR PACKAGE : build PACKAGE from the pinned module in
# MODULE_DIR (go.mod + go.sum committed) into $FS_OPT/bin/NAME, only when the pin changed.
# Modules/build cache stay in ~/go and ~/.cache/go-build, so a re-install is seconds.
go_build_pinned() {
  local name="$1" moddir="$2" pkg="$3" stamp bin="$FS_OPT/bin/$1"
  stamp="$(cat "$moddir/go.mod" "$moddir/go.sum" | sha256sum | cut -c1-16)"
  if [[ -x "$bin" && "$(cat "$bin.stamp" 2>/dev/null)" == "$stamp" ]]; then return 0; fi
  command -v go >/dev/null || fs_die "$name: the Go toolchain is needed to build $pkg (not found in PATH)"
  fs_log "$name: go build $pkg (log: $FS_LOG/$name-build.log)"
  (cd "$moddir" && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$bin.tmp" "$pkg") \
    >"$FS_LOG/$name-build.log" 2>&1 \
    || { tail -n 30 "$FS_LOG/$name-build.log" >&2; fs_die "$name: go build failed (log: $FS_LOG/$name-build.log)"; }
  mv -f "$bin.tmp" "$bin"
  echo "$stamp" >"$bin.stamp"
}
