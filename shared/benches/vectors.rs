//! Native vector search: exact f32 brute force (the baseline) vs the quantised two-stage index,
//! top-5 over 1k/10k/50k × 768. Recall is reported by `scripts/bench` from the in-runtime route.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use prism_core::knowledge::embed::{normalise, DIM};
use prism_core::knowledge::vectors::{exact_search, quantise, Index};

fn vectors(n: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            let mut v: Vec<f32> = (0..DIM)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    ((s >> 11) as f64 / (1u64 << 53) as f64) as f32 * 2.0 - 1.0
                })
                .collect();
            normalise(&mut v);
            v
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("vector_search");
    g.sample_size(20);
    for n in [1_000usize, 10_000, 50_000] {
        let docs = vectors(n, 42);
        let mut index = Index::default();
        for (i, d) in docs.iter().enumerate() {
            index.push(i as i64, &quantise(d));
        }
        let q = vectors(1, 7).pop().unwrap();
        g.bench_with_input(BenchmarkId::new("exact_f32", n), &n, |b, _| {
            b.iter(|| exact_search(&docs, &q, 5))
        });
        g.bench_with_input(BenchmarkId::new("quantised", n), &n, |b, _| {
            b.iter(|| index.search(&q, 5))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
