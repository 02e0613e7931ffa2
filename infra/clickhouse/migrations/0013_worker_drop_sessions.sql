-- `sessions` is replaced by `session_index` (0012 copied its rows); no longer written or read.
DROP TABLE IF EXISTS fitstream.sessions;
