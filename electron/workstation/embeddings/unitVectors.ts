// Embeddings compared by cosine: rows scaled to unit length, so that a dot product is the cosine.
/** Scales each row to unit length in place (zero rows stay zero). */
export function normaliseRows(vectors: Float32Array, dim: number): Float32Array {
  for (let start = 0; start < vectors.length; start += dim) {
    let sum = 0;
    for (let k = 0; k < dim; k++) sum += vectors[start + k] * vectors[start + k];
    const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
    for (let k = 0; k < dim; k++) vectors[start + k] *= scale;
  }
  return vectors;
}
