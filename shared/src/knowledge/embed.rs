//! Embeddings: the [`Embedder`] abstraction, the built-in deterministic hashed embedder (so the
//! platform answers with no AI account at all), and vector helpers. Remote embedders (Gemini,
//! OpenAI-compatible) live in `crate::ai::providers`.

use super::text;
use crate::error::ApiResult;
use async_trait::async_trait;

/// Dimension of every index (Gemini's `gemini-embedding-001` truncated to 768, and the local
/// embedder's output).
pub const DIM: usize = 768;

/// Whether a text is stored (a document chunk) or looked up (a question): some models embed
/// them differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Document,
    Query,
}

#[async_trait(?Send)]
pub trait Embedder {
    /// Identifies the model and dimension; an index never mixes two ids.
    fn model_id(&self) -> String;
    /// Unit-length vectors of [`DIM`] floats, one per text.
    async fn embed(&self, texts: &[String], purpose: Purpose) -> ApiResult<Vec<Vec<f32>>>;
}

/// Hashed features of words, word pairs and character trigrams (signed feature hashing): a
/// bag-of-features embedding that needs no model, is deterministic, and is robust to plurals
/// and typos through the trigrams. Good enough to answer from a tenant's FAQ with no account.
pub struct LocalEmbedder;

pub const LOCAL_MODEL: &str = "local-hash-v1@768";

/// FNV-1a with a splitmix64 finish: a fast, stable, well-spread hash (not for security).
/// Also the stable coin for sampling conversations (surveys, the review queue).
pub(crate) fn fnv1a(bytes: &[u8], seed: u64) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Final avalanche (splitmix64) so nearby inputs spread over all dimensions.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

fn add(v: &mut [f32], feature: &str, weight: f32) {
    let h = fnv1a(feature.as_bytes(), 0);
    let idx = (h % DIM as u64) as usize;
    let sign = if (h >> 63) == 0 { 1.0 } else { -1.0 };
    v[idx] += sign * weight;
}

impl LocalEmbedder {
    pub fn embed_one(text: &str) -> Vec<f32> {
        let mut v = vec![0f32; DIM];
        let terms = text::terms(text);
        for t in &terms {
            add(&mut v, &format!("w:{t}"), 1.0);
            let padded: Vec<char> = format!("<{t}>").chars().collect();
            let n = padded.len().saturating_sub(2).max(1) as f32;
            for tri in padded.windows(3) {
                add(
                    &mut v,
                    &format!("c:{}", tri.iter().collect::<String>()),
                    0.6 / n.sqrt(),
                );
            }
        }
        for pair in terms.windows(2) {
            add(&mut v, &format!("b:{} {}", pair[0], pair[1]), 0.7);
        }
        normalise(&mut v);
        v
    }
}

#[async_trait(?Send)]
impl Embedder for LocalEmbedder {
    fn model_id(&self) -> String {
        LOCAL_MODEL.into()
    }

    async fn embed(&self, texts: &[String], _purpose: Purpose) -> ApiResult<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|t| Self::embed_one(t)).collect())
    }
}

/// Scales a vector to unit length (remote models truncated to 768 dims are no longer unit).
pub fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 && norm.is_finite() {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similar_texts_are_closer_than_unrelated_ones() {
        let q = LocalEmbedder::embed_one("How do I return shoes?");
        let near =
            LocalEmbedder::embed_one("Returning shoes: you can return items within 30 days.");
        let far = LocalEmbedder::embed_one("Our office is closed on public holidays.");
        assert!(
            dot(&q, &near) > dot(&q, &far) + 0.1,
            "{} vs {}",
            dot(&q, &near),
            dot(&q, &far)
        );
        assert!((dot(&q, &q) - 1.0).abs() < 1e-4);
        assert_eq!(
            LocalEmbedder::embed_one("abc"),
            LocalEmbedder::embed_one("abc"),
            "deterministic"
        );
    }
}
