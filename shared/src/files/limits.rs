//! How large a file and how much stored data each plan allows. The per-file cap also bounds
//! memory: an upload is held whole in the isolate while it is checked and stored.

use crate::error::{ApiError, ErrorCode};
use crate::tenancy::Tier;

/// The largest body the upload route accepts on any plan (the adapter stops reading there).
pub const MAX_FILE_BYTES: usize = 25 * 1024 * 1024;

const MIB: i64 = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLimits {
    pub file_bytes: i64,
    pub storage_bytes: i64,
}

impl FileLimits {
    pub fn for_tier(tier: Tier) -> FileLimits {
        match tier {
            Tier::Free => FileLimits {
                file_bytes: 5 * MIB,
                storage_bytes: 500 * MIB,
            },
            Tier::Pro => FileLimits {
                file_bytes: 10 * MIB,
                storage_bytes: 20 * 1024 * MIB,
            },
            Tier::Enterprise => FileLimits {
                file_bytes: MAX_FILE_BYTES as i64,
                storage_bytes: 200 * 1024 * MIB,
            },
        }
    }

    /// The file is within the per-file cap and fits beside what the tenant already stores.
    pub fn check(&self, size: i64, stored: i64) -> Result<(), ApiError> {
        if size > self.file_bytes {
            return Err(ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "this plan accepts files up to {} MiB; this one is {:.1} MiB",
                    self.file_bytes / MIB,
                    size as f64 / MIB as f64
                ),
            ));
        }
        if stored.saturating_add(size) > self.storage_bytes {
            return Err(crate::tenancy::quotas::exceeded(
                "MiB of stored files",
                self.storage_bytes / MIB,
            ));
        }
        Ok(())
    }
}
