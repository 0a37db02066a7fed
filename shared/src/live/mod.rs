//! Logic that runs inside a live object (a Durable Object on Cloudflare). The object adapter
//! owns the sockets and storage handles; everything it decides comes from here.

pub mod echo;
pub mod turns;
