export { exportRecords, importRecords, ImportConflictError, type ImportSummary } from "./transfer.js";
export {
  parseExport,
  ImportFileError,
  EXPORT_FORMAT,
  EXPORT_VERSION,
  type DataRecord,
  type ExportHeader,
} from "./records.js";
export { readOpenClaw, readPraisonAi, PeerFileError, type PeerImport, type PeerOptions } from "./peers.js";
