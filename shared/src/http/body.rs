use futures::stream::LocalBoxStream;
use std::fmt;

/// A stream of body chunks, for responses that are produced over time (Server-Sent Events, AI
/// token streams). Local (not `Send`): every runtime we target runs a request on one thread.
pub type ByteStream = LocalBoxStream<'static, Vec<u8>>;

/// A response or request body: bytes already in hand, or a stream the adapter pipes through.
#[derive(Default)]
pub enum Body {
    #[default]
    Empty,
    Bytes(Vec<u8>),
    Stream(ByteStream),
}

impl Body {
    /// The buffered bytes; empty for a stream (streams are consumed by the adapter, not read here).
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Bytes(b) => b,
            Body::Empty | Body::Stream(_) => &[],
        }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self, Body::Stream(_))
    }

    /// Collects a body into bytes, draining a stream if needed.
    pub async fn into_bytes(self) -> Vec<u8> {
        use futures::StreamExt;
        match self {
            Body::Empty => Vec::new(),
            Body::Bytes(b) => b,
            Body::Stream(mut s) => {
                let mut out = Vec::new();
                while let Some(chunk) = s.next().await {
                    out.extend_from_slice(&chunk);
                }
                out
            }
        }
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Empty => f.write_str("Body::Empty"),
            Body::Bytes(b) => write!(f, "Body::Bytes({} bytes)", b.len()),
            Body::Stream(_) => f.write_str("Body::Stream"),
        }
    }
}

impl From<Vec<u8>> for Body {
    fn from(v: Vec<u8>) -> Self {
        if v.is_empty() {
            Body::Empty
        } else {
            Body::Bytes(v)
        }
    }
}

impl From<String> for Body {
    fn from(s: String) -> Self {
        Body::from(s.into_bytes())
    }
}

impl From<&str> for Body {
    fn from(s: &str) -> Self {
        Body::from(s.as_bytes().to_vec())
    }
}
