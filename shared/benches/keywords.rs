//! Keyword ranking in the worker (`knowledge::keywords`): building a tenant's index at load and
//! one search, over 1,000 and 5,000 passages (5,000 is the cap above which FTS5 ranks instead).
//! Passages are 80 words drawn from a 3,000-word vocabulary with a skewed (Zipf-like)
//! frequency, as help pages are; the query has six words.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use prism_core::knowledge::keywords::Keywords;

fn words(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("word{i}x")).collect()
}

fn passages(n: usize, vocab: &[String]) -> Vec<String> {
    let mut s: u64 = 42;
    (0..n)
        .map(|_| {
            (0..80)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    // Squaring a uniform draw favours the first words, as common words are.
                    let u = (s >> 11) as f64 / (1u64 << 53) as f64;
                    vocab[((u * u) * vocab.len() as f64) as usize % vocab.len()].as_str()
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let vocab = words(3_000);
    let query: Vec<String> = [5, 40, 300, 900, 1500, 2800]
        .iter()
        .map(|i| vocab[*i].clone())
        .collect();
    let mut g = c.benchmark_group("keyword_search");
    g.sample_size(20);
    for n in [1_000usize, 5_000] {
        let texts = passages(n, &vocab);
        let build = || {
            let mut k = Keywords::default();
            for (i, t) in texts.iter().enumerate() {
                k.add(i as i64, "Help > Section", t);
            }
            k
        };
        g.bench_with_input(BenchmarkId::new("build", n), &n, |b, _| b.iter(build));
        let k = build();
        g.bench_with_input(BenchmarkId::new("search", n), &n, |b, _| {
            b.iter(|| k.search(&query, 20))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
