//! The open-file limit: every connection is a file descriptor, here and in the pod (a standalone
//! child inherits this process's limits).

use rlimit::Resource;

/// Raises `RLIMIT_NOFILE` to at least `wanted` where allowed: the soft limit up to the hard one, and
/// the hard one too when this process may (root, up to the kernel's `fs.nr_open`). Returns the soft
/// limit in force afterwards.
pub fn raise_nofile(wanted: u64) -> anyhow::Result<u64> {
    let (soft, hard) = rlimit::getrlimit(Resource::NOFILE)?;
    if hard < wanted {
        let ceiling = std::fs::read_to_string("/proc/sys/fs/nr_open")
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .unwrap_or(wanted);
        let target = wanted.min(ceiling);
        if rlimit::setrlimit(Resource::NOFILE, target, target).is_ok() {
            return Ok(rlimit::getrlimit(Resource::NOFILE)?.0);
        }
    }
    if soft < hard {
        rlimit::setrlimit(Resource::NOFILE, hard, hard)?;
    }
    Ok(rlimit::getrlimit(Resource::NOFILE)?.0)
}
