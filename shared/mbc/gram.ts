/**
 * Accumulates one block of columns of the sparsified adapter matrix into the N × N Gram matrix
 * G = X Xᵀ (X: one row per adapter, its flattened weights with entries |x| <= that adapter's
 * median zeroed; DESIGN.md, "MBC").
 *
 * The caller streams X a module at a time (block = every adapter's slice of that module, memory
 * N × module size), so the full X (N × ~17M floats for a 7B model) never exists. Inside a block the
 * product is tiled over columns so the working set (N × tileWidth doubles) stays in cache, and
 * sums run in float64.
 *
 * @param gram      row-major [n, n], accumulated into (kept symmetric)
 * @param block     row-major [n, width]: row i is adapter i's raw (unsparsified) values
 * @param thresholds per-row threshold: entries with |x| <= thresholds[i] count as zero
 */
export function accumulateGram(
  gram: Float64Array,
  n: number,
  block: ArrayLike<number>,
  width: number,
  thresholds: ArrayLike<number>,
  tileWidth = 512,
): void {
  if (gram.length !== n * n) throw new RangeError(`gram has ${gram.length} entries, expected ${n}²`);
  if (block.length !== n * width) throw new RangeError(`block has ${block.length} values, expected ${n} × ${width}`);
  if (thresholds.length !== n) throw new RangeError(`${thresholds.length} thresholds for ${n} rows`);
  const tile = new Float64Array(n * Math.min(tileWidth, width));
  for (let col0 = 0; col0 < width; col0 += tileWidth) {
    const tw = Math.min(tileWidth, width - col0);
    for (let i = 0; i < n; i++) {
      const t = thresholds[i]!;
      const src = i * width + col0;
      const dst = i * tw;
      for (let c = 0; c < tw; c++) {
        const v = block[src + c]!;
        tile[dst + c] = Math.abs(v) > t ? v : 0;
      }
    }
    accumulateTile(gram, n, tile, tw);
  }
}

/** G += T Tᵀ for one tile T [n, tw]; four rows of T at a time so each entry of row i is loaded once per four dot products. */
function accumulateTile(gram: Float64Array, n: number, tile: Float64Array, tw: number): void {
  for (let i = 0; i < n; i++) {
    const oi = i * tw;
    let j = 0;
    for (; j + 3 <= i; j += 4) {
      const o0 = j * tw;
      const o1 = o0 + tw;
      const o2 = o1 + tw;
      const o3 = o2 + tw;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let c = 0; c < tw; c++) {
        const x = tile[oi + c]!;
        s0 += x * tile[o0 + c]!;
        s1 += x * tile[o1 + c]!;
        s2 += x * tile[o2 + c]!;
        s3 += x * tile[o3 + c]!;
      }
      addSymmetric(gram, n, i, j, s0);
      addSymmetric(gram, n, i, j + 1, s1);
      addSymmetric(gram, n, i, j + 2, s2);
      addSymmetric(gram, n, i, j + 3, s3);
    }
    for (; j <= i; j++) {
      const oj = j * tw;
      let s = 0;
      for (let c = 0; c < tw; c++) s += tile[oi + c]! * tile[oj + c]!;
      addSymmetric(gram, n, i, j, s);
    }
  }
}

function addSymmetric(gram: Float64Array, n: number, i: number, j: number, value: number): void {
  gram[i * n + j] = gram[i * n + j]! + value;
  if (i !== j) gram[j * n + i] = gram[j * n + i]! + value;
}
