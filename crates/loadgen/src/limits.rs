//! The open-file limit: every connection is a file descriptor, here and in the pod (a standalone
//! child inherits this process's limits).

use rlimit::Resource;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the limit in force afterwards.
pub fn raise_nofile() -> anyhow::Result<u64> {
    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE)?;
    if soft < hard {
        rlimit::setrlimit(Resource::NOFILE, hard, hard)?;
    }
    Ok(rlimit::getrlimit(Resource::NOFILE)?.0)
}
