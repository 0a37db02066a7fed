//! The request/response model shared by every runtime. Adapters convert their native types to
//! these at the edge of the program and back; nothing else in the core sees a runtime type.

mod body;
mod headers;
mod method;
mod request;
mod response;

pub use body::{Body, ByteStream};
pub use headers::Headers;
pub use method::Method;
pub use request::Request;
pub use response::Response;
