import { FitstreamError } from '../../schemas/fitstream-error.js';

/**
 * Closed list of file-import failures. Every one is a property of the uploaded bytes, so none is
 * retryable: the same file fails the same way. The API maps them to 4xx problem+json bodies;
 * docs/imports.md documents each (a test fails when one is missing there).
 */
export const IMPORT_ERRORS = {
  /** zero bytes */
  empty_file: { retryable: false },
  /** more bytes than the `maxBytes` limit (or, for FIT, `maxFitBytes`) */
  file_too_large: { retryable: false },
  /** neither a FIT header nor an XML document with a <gpx> or <TrainingCenterDatabase> root */
  unknown_format: { retryable: false },
  /** not well-formed XML (or not UTF-8 / UTF-16 text) */
  malformed_xml: { retryable: false },
  /** a reference to an entity declared in a DOCTYPE (an XML bomb, an external entity): never expanded */
  xml_entity_refused: { retryable: false },
  /** well-formed XML whose root element is not <gpx> */
  not_gpx: { retryable: false },
  /** well-formed XML whose root element is not <TrainingCenterDatabase> */
  not_tcx: { retryable: false },
  /** no FIT header: wrong header size or no '.FIT' signature */
  not_fit: { retryable: false },
  /** a FIT header that declares more data than the file holds, or a missing CRC */
  truncated_fit: { retryable: false },
  /** the FIT header or file CRC does not match the bytes */
  fit_crc_mismatch: { retryable: false },
  /** the FIT data section does not decode (bad definition or record) */
  fit_decode_failed: { retryable: false },
  /** the file holds no point with a valid time (routes and waypoints are not activities) */
  no_track_points: { retryable: false },
  /** more points than the `maxPoints` limit */
  too_many_points: { retryable: false },
} as const satisfies Record<string, { retryable: boolean }>;

export type ImportErrorCode = keyof typeof IMPORT_ERRORS;

export class ImportError extends FitstreamError<ImportErrorCode> {
  readonly code: ImportErrorCode;

  constructor(code: ImportErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause, retryable: IMPORT_ERRORS[code].retryable });
    this.code = code;
  }
}
