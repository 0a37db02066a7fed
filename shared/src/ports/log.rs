/// Where structured log lines go (`console.log` on Cloudflare, stderr under Spin). Lines are
/// complete JSON objects built by the core; adapters must not add secrets or reformat them.
pub trait Logger {
    fn log(&self, line: &str);
}
