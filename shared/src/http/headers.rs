// Sees outside bytes: no indexing or slicing that could panic (fuzzed in fuzz/).
#![deny(clippy::indexing_slicing)]
/// An ordered header list with case-insensitive lookup.
///
/// Names are stored lower-case (HTTP/2 and the Workers runtime both normalise them), which makes
/// lookup a plain comparison. Order is kept because a few headers (`Set-Cookie`, `Vary`) may repeat.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(Vec<(String, String)>);

impl Headers {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// First value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Replaces every value of `name` with `value`.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.remove(name);
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    /// Sets `name` only when it is not already present (handlers may override defaults).
    pub fn set_default(&mut self, name: &str, value: impl Into<String>) {
        if !self.contains(name) {
            self.0.push((name.to_ascii_lowercase(), value.into()));
        }
    }

    /// Adds a value, keeping existing ones.
    pub fn append(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_ascii_lowercase(), value.into()));
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<T: IntoIterator<Item = (N, V)>>(iter: T) -> Self {
        let mut h = Headers::new();
        for (n, v) in iter {
            let n: String = n.into();
            h.append(&n, v);
        }
        h
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests may index: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_set_replaces_all_values() {
        let mut h: Headers = [("X-Thing", "a"), ("x-thing", "b")].into_iter().collect();
        assert_eq!(h.get("X-THING"), Some("a"));
        assert_eq!(h.get_all("x-thing").count(), 2);
        h.set("X-Thing", "c");
        assert_eq!(h.get_all("x-thing").collect::<Vec<_>>(), vec!["c"]);
        h.set_default("x-thing", "d");
        assert_eq!(h.get("x-thing"), Some("c"));
    }
}
