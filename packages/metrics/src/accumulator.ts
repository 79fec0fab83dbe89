/** Summary of a per-image metric over a dataset. */
export interface MetricSummary {
  mean: number;
  median: number;
  /** Images with a finite value. */
  count: number;
  /** Images whose value was NaN: dropped from mean and median, counted here. */
  nanCount: number;
  values: Array<{ id: string; value: number }>;
}

/** Collects a per-image metric image by image; `summary()` aggregates. */
export class MetricAccumulator {
  private readonly values: Array<{ id: string; value: number }> = [];

  add(value: number, id: string = String(this.values.length)): void {
    if (typeof value !== 'number' || (!Number.isFinite(value) && !Number.isNaN(value))) {
      throw new RangeError(`MetricAccumulator.add takes a finite number or NaN, got ${value}`);
    }
    this.values.push({ id, value });
  }

  summary(): MetricSummary {
    const finite = this.values.map((v) => v.value).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
    const count = finite.length;
    const mean = count === 0 ? NaN : finite.reduce((a, b) => a + b, 0) / count;
    const median = count === 0 ? NaN : count % 2 ? finite[(count - 1) / 2]! : (finite[count / 2 - 1]! + finite[count / 2]!) / 2;
    return { mean, median, count, nanCount: this.values.length - count, values: this.values.map((v) => ({ ...v })) };
  }
}
