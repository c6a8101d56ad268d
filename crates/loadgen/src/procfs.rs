//! What `/proc` tells about a process: resident memory and CPU time.

use std::time::Duration;

/// Clock ticks per second of `/proc/<pid>/stat` times (`getconf CLK_TCK`; 100 on Linux builds
/// that matter here).
const TICKS_PER_SECOND: u64 = 100;

/// One look at a process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Resident set size in bytes (`VmRSS`).
    pub rss_bytes: u64,
    /// User plus system CPU time.
    pub cpu: Duration,
}

/// Reads `pid` (`None`: this process). `None` when the process is gone or `/proc` is not there.
pub fn sample(pid: Option<u32>) -> Option<Sample> {
    let dir = pid.map_or_else(|| "/proc/self".to_owned(), |pid| format!("/proc/{pid}"));
    let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
    let rss_kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
    Some(Sample { rss_bytes: rss_kb * 1024, cpu: cpu_time(&stat)? })
}

/// CPU time spent busy by the whole machine, all cores together (`/proc/stat`: everything but idle and
/// iowait).
pub fn machine_busy() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> =
        stat.lines().next()?.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let (idle, iowait) = (*fields.get(3)?, *fields.get(4)?);
    // guest and guest_nice (fields 9 and 10) are already counted in user and nice.
    let total: u64 = fields.iter().take(8).sum();
    Some(Duration::from_millis((total - idle - iowait) * 1000 / TICKS_PER_SECOND))
}

/// `utime + stime` from a `stat` line; the command name may hold spaces, so fields are counted after
/// its closing parenthesis.
fn cpu_time(stat: &str) -> Option<Duration> {
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // After the name: state is field 3 of the man page, utime 14 and stime 15.
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = sample(None).expect("/proc/self");
        assert!(me.rss_bytes > 0);
    }

    #[test]
    fn reads_the_machine() {
        assert!(machine_busy().is_some());
    }

    #[test]
    fn counts_fields_after_the_name() {
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 150 50 0 0";
        assert_eq!(cpu_time(stat), Some(Duration::from_secs(2)));
    }
}
