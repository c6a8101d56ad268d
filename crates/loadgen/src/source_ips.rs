//! Parsing `--source-ips`: the loopback addresses client sockets bind to, so that more connections
//! than one address's ephemeral ports (about 28k) can be opened.

use std::net::Ipv4Addr;

use crate::args::SourceIps;

/// Most addresses a range may name.
const MAX_ADDRESSES: u32 = 4096;

/// Reads `A-B` (inclusive range) or `A,B,...`.
pub fn parse(raw: &str) -> Result<SourceIps, String> {
    let address = |s: &str| s.trim().parse::<Ipv4Addr>().map_err(|e| format!("{s:?}: {e}"));
    let addresses = if let Some((from, to)) = raw.split_once('-') {
        let (from, to) = (u32::from(address(from)?), u32::from(address(to)?));
        if to < from {
            return Err(format!("range {raw:?} ends before it starts"));
        }
        if to - from >= MAX_ADDRESSES {
            return Err(format!("range {raw:?} names more than {MAX_ADDRESSES} addresses"));
        }
        (from..=to).map(Ipv4Addr::from).collect()
    } else {
        raw.split(',').map(address).collect::<Result<Vec<_>, _>>()?
    };
    if addresses.is_empty() {
        return Err("no address given".to_owned());
    }
    Ok(SourceIps(addresses))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ranges_and_lists() {
        let range = parse("127.0.0.1-127.0.0.3").unwrap().0;
        assert_eq!(range, ["127.0.0.1", "127.0.0.2", "127.0.0.3"].map(|a| a.parse::<Ipv4Addr>().unwrap()));
        let list = parse("127.0.0.5, 127.0.0.9").unwrap().0;
        assert_eq!(list.len(), 2);
        assert_eq!(parse("127.0.0.1").unwrap().0.len(), 1);
    }

    #[test]
    fn refuses_nonsense() {
        assert!(parse("127.0.0.3-127.0.0.1").is_err());
        assert!(parse("localhost").is_err());
        assert!(parse("10.0.0.0-10.255.255.255").is_err());
    }
}
