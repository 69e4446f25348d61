// Attention masks and position ids for plain, packed and cached batches.
//
// Why this exists: packed training rows (TRL "bfd" packing, algorithms.md §4) hold several sequences; each
// must attend only to earlier tokens of its own sequence and see positions restarting at 0, or the packed
// loss differs from the unpacked one. Generation with a KV cache attends from new queries to all cached keys.

/** Additive mask value for disallowed pairs; exp() of it underflows to exactly 0 in float32. */
export const MASKED = -1e9;

/**
 * Additive mask [B or 1, 1, T, S] (flattened) for T queries at absolute key offsets past..past+T−1 over S =
 * past + T keys: key j is visible from query i iff j ≤ past + i and (with segments) both share a segment id.
 * Returns null when nothing is masked (a single query with no segments).
 */
export function buildAttentionMask(
  batch: number, seqLen: number, past: number, segmentIds?: ArrayLike<number>,
): { data: Float32Array; shape: [number, number, number, number] } | null {
  const S = past + seqLen;
  if (segmentIds == null) {
    if (seqLen === 1) return null;
    const data = new Float32Array(seqLen * S);
    for (let i = 0; i < seqLen; i++) for (let j = past + i + 1; j < S; j++) data[i * S + j] = MASKED;
    return { data, shape: [1, 1, seqLen, S] };
  }
  if (past !== 0) throw new Error("segment ids are not supported together with a KV cache");
  const data = new Float32Array(batch * seqLen * S);
  for (let b = 0; b < batch; b++) {
    const row = b * seqLen;
    for (let i = 0; i < seqLen; i++) {
      const seg = segmentIds[row + i];
      const base = (row + i) * S;
      for (let j = 0; j < S; j++) {
        if (j > i || segmentIds[row + j] !== seg) data[base + j] = MASKED;
      }
    }
  }
  return { data, shape: [batch, 1, seqLen, S] };
}

/** Positions past, past+1, … for every row. */
export function defaultPositions(batch: number, seqLen: number, past = 0): Int32Array {
  const out = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) for (let t = 0; t < seqLen; t++) out[b * seqLen + t] = past + t;
  return out;
}

/** Positions restarting at 0 wherever the segment id changes along a row (padding-free packing). */
export function positionsFromSegments(segmentIds: ArrayLike<number>, batch: number, seqLen: number): Int32Array {
  const out = new Int32Array(batch * seqLen);
  for (let b = 0; b < batch; b++) {
    let pos = 0;
    for (let t = 0; t < seqLen; t++) {
      const i = b * seqLen + t;
      if (t > 0 && segmentIds[i] !== segmentIds[i - 1]) pos = 0;
      out[i] = pos++;
    }
  }
  return out;
}
