export { runImport, type ImportDeps, type ImportOptions } from './run.ts';
export { importFile } from './file.ts';
export { getJob, listJobs, MAX_STORED_ERRORS, type ImportJob } from './jobs.ts';
export { importKinds, ContactRow, ProductRow, OrderRow, OrderItemRow, EventRow } from './kinds/index.ts';
export { exportKindNames, exportFormats, exportRows, type ExportKindName, type ExportFormat } from './export.ts';
export { importKindNames, type ImportKindName, type ImportMode, type RowError, type ColumnDoc } from './types.ts';
export { readCsv, csvLine } from './csv.ts';
