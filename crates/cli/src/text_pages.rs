//! The binary's own code in memory: once the gateway serves, only the code it runs stays
//! resident.
//!
//! The `gatehouse` binary holds the gateway, the management API, the portal and the Git
//! endpoint; startup runs a large part of it once (argument and config parsing, schema checks,
//! the components' construction), and those pages stayed resident: 14–17 MiB of the binary's file
//! pages under bench/run.sh's load, against nginx's whole worker at 11 MiB. Once started,
//! [`release_startup_code`] drops the code pages from the resident set; the serving code faults
//! its pages back in from the page cache as it runs (11–14 MiB then). Written by hand: no crate
//! offers this, and it is one system call per mapping.

use std::fs;

/// Drops the binary's code pages from this process's resident set: those still run are mapped
/// again on their next use, from the page cache (a minor fault, no I/O). Only executable
/// mappings: code is never relocated, so the file holds exactly what was mapped, whereas a
/// read-only data mapping may hold relocated pointers (RELRO) that the file does not. Best
/// effort: on failure the process only keeps more pages resident.
pub fn release_startup_code() {
    let Some((exe, maps)) = own_maps() else {
        return;
    };
    for (start, end) in code_mappings_of(&maps, &exe) {
        // SAFETY: the range is an executable, never-written (r-xp) private mapping of our own
        // binary; MADV_DONTNEED on it only unmaps pages that the kernel maps again, unchanged,
        // from the file on the next execution.
        let rc =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        if rc != 0 {
            tracing::debug!(
                start,
                end,
                "madvise(MADV_DONTNEED) on the binary's code failed"
            );
        }
    }
}

/// The executable's path and this process's mappings.
fn own_maps() -> Option<(String, String)> {
    let exe = fs::read_link("/proc/self/exe").ok()?;
    let maps = fs::read_to_string("/proc/self/maps").ok()?;
    Some((exe.to_str()?.to_string(), maps))
}

/// `(start, end)` of each executable, non-writable mapping of `path` in a `/proc/self/maps`
/// text.
fn code_mappings_of(maps: &str, path: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let perms = fields.next()?;
            // offset, device, inode, then the path (which has no spaces for our binary).
            let name = fields.nth(3)?;
            if name != path || !perms.starts_with("r-x") {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            Some((
                usize::from_str_radix(start, 16).ok()?,
                usize::from_str_radix(end, 16).ok()?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_binarys_code_mappings_are_chosen() {
        let maps = "\
55d0a0000000-55d0a0400000 r--p 00000000 fd:01 123 /usr/bin/gatehouse
55d0a0400000-55d0a3000000 r-xp 00400000 fd:01 123 /usr/bin/gatehouse
55d0a3000000-55d0a3090000 r--p 03000000 fd:01 123 /usr/bin/gatehouse
55d0a3090000-55d0a3100000 rw-p 03090000 fd:01 123 /usr/bin/gatehouse
7f0000000000-7f0000100000 r-xp 00000000 fd:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
";
        assert_eq!(
            code_mappings_of(maps, "/usr/bin/gatehouse"),
            vec![(0x55d0a0400000, 0x55d0a3000000)]
        );
    }

    #[test]
    fn the_running_test_binary_runs_on_after_its_code_left_the_resident_set() {
        let (exe, maps) = own_maps().expect("maps");
        assert!(!code_mappings_of(&maps, &exe).is_empty());
        release_startup_code();
        // Still running: its code came back from the page cache.
        assert_eq!(code_mappings_of("", "x"), Vec::new());
    }
}
