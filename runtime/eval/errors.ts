// Data a task needs is not on this machine (no shipped subset, or a shot or doc
// beyond the shipped rows). The executor reports such tasks as "not executed"
// with a hint, never as a failure or a zero score.
export class DataUnavailableError extends Error {}
