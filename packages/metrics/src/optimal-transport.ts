import { MetricInputError } from './label-map.js';

/**
 * Exact optimal transport between two discrete distributions (the transportation problem):
 * minimise Σ π_ij c_ij subject to Σ_j π_ij = a_i, Σ_i π_ij = b_j, π ≥ 0. Successive shortest
 * paths with Dijkstra and potentials on the dense bipartite residual graph; each augmentation
 * saturates a supply, a demand or a reverse edge. Sizes here are small (≤ a few hundred a side).
 * @param cost row-major a.length × b.length, finite
 * @param a source masses, ≥ 0, summing to 1 (± 1e-9); b likewise
 * @returns the plan π, row-major a.length × b.length
 */
export function solveTransport(cost: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const n = a.length;
  const m = b.length;
  if (cost.length !== n * m) throw new MetricInputError(`cost has ${cost.length} entries for ${n}×${m}`);
  checkMasses(a, 'a');
  checkMasses(b, 'b');
  const tol = 1e-13;
  const plan = new Float64Array(n * m);
  const supply = Float64Array.from(a);
  const demand = Float64Array.from(b);
  // Nodes: rows 0..n-1, columns n..n+m-1, source S = n+m (S → row i while supply is left), sink
  // T = n+m+1 (column j → T while demand is left). Potentials keep reduced costs ≥ 0.
  let minCost = 0;
  for (let k = 0; k < cost.length; k++) {
    if (!Number.isFinite(cost[k]!)) throw new MetricInputError(`cost[${k}] is ${cost[k]}; costs must be finite`);
    minCost = Math.min(minCost, cost[k]!);
  }
  const S = n + m;
  const T = n + m + 1;
  const nodes = n + m + 2;
  const pot = new Float64Array(nodes);
  for (let j = 0; j < m; j++) pot[n + j] = minCost;
  pot[T] = minCost;
  const dist = new Float64Array(nodes);
  const prev = new Int32Array(nodes);
  const done = new Uint8Array(nodes);
  const relax = (u: number, v: number, reduced: number) => {
    const d = dist[u]! + Math.max(0, reduced);
    if (d < dist[v]!) {
      dist[v] = d;
      prev[v] = u;
    }
  };
  const maxIterations = 4 * nodes * nodes;
  for (let it = 0; ; it++) {
    if (it > maxIterations) throw new Error('solveTransport did not converge: report this with the cost matrix');
    dist.fill(Infinity);
    prev.fill(-1);
    done.fill(0);
    dist[S] = 0;
    for (;;) {
      let u = -1;
      let best = Infinity;
      for (let v = 0; v < nodes; v++) {
        if (!done[v] && dist[v]! < best) {
          best = dist[v]!;
          u = v;
        }
      }
      if (u < 0 || u === T) break;
      done[u] = 1;
      if (u === S) {
        for (let i = 0; i < n; i++) if (supply[i]! > tol) relax(S, i, pot[S]! - pot[i]!);
      } else if (u < n) {
        for (let j = 0; j < m; j++) relax(u, n + j, cost[u * m + j]! + pot[u]! - pot[n + j]!);
      } else {
        const j = u - n;
        if (demand[j]! > tol) relax(u, T, pot[u]! - pot[T]!);
        for (let i = 0; i < n; i++) if (plan[i * m + j]! > tol) relax(u, i, -cost[i * m + j]! + pot[u]! - pot[i]!);
      }
    }
    if (dist[T] === Infinity) break;
    const reach = dist[T]!;
    for (let v = 0; v < nodes; v++) pot[v]! += Math.min(dist[v]!, reach);
    // Bottleneck: the first row's supply, the last column's demand, and every reverse edge's flow.
    const last = prev[T]!;
    let delta = demand[last - n]!;
    let v = last;
    while (prev[v] !== S) {
      const u = prev[v]!;
      if (u >= n) delta = Math.min(delta, plan[v * m + (u - n)]!); // reverse edge column u → row v
      v = u;
    }
    delta = Math.min(delta, supply[v]!);
    supply[v]! -= delta;
    demand[last - n]! -= delta;
    v = last;
    while (prev[v] !== S) {
      const u = prev[v]!;
      if (u < n) plan[u * m + (v - n)]! += delta;
      else plan[v * m + (u - n)]! -= delta;
      v = u;
    }
    for (let k = 0; k < plan.length; k++) if (plan[k]! < tol) plan[k] = 0;
  }
  return plan;
}

function checkMasses(w: ArrayLike<number>, what: string): void {
  if (w.length === 0) throw new MetricInputError(`${what} is empty`);
  let sum = 0;
  for (let i = 0; i < w.length; i++) {
    if (!(w[i]! >= 0) || !Number.isFinite(w[i]!)) throw new MetricInputError(`${what}[${i}] is ${w[i]}; masses must be finite and ≥ 0`);
    sum += w[i]!;
  }
  if (Math.abs(sum - 1) > 1e-9) throw new MetricInputError(`${what} sums to ${sum}; masses must sum to 1`);
}
