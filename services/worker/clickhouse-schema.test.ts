import { describe, expect, it } from 'vitest';
import { workerSchemaStatements } from './clickhouse-schema.js';

describe('workerSchemaStatements', () => {
  const stmts = workerSchemaStatements('wtest_schema');

  it('re-targets every statement at the given database', () => {
    expect(stmts[0]).toBe('CREATE DATABASE IF NOT EXISTS `wtest_schema`');
    for (const s of stmts) expect(s).not.toMatch(/\bfitstream\./);
    expect(stmts.some((s) => s.includes('`wtest_schema`.activity_announcements'))).toBe(true);
  });

  it('carries only DDL: a migration back-fill is not re-run on every start', () => {
    // 0011 back-fills activity_announcements from activities; repeated on a database that already
    // holds activities it would mark stored-but-unannounced versions as announced
    for (const s of stmts) expect(s).toMatch(/^(CREATE|DROP TABLE|RENAME TABLE)\b/);
  });
});
