/// Cryptographically secure randomness (ids, API keys, tokens).
pub trait Random {
    fn fill(&self, buf: &mut [u8]);
}

impl dyn Random + '_ {
    /// `N` random bytes.
    pub fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.fill(&mut b);
        b
    }
}
