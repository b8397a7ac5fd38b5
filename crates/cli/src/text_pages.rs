//! The binary's own pages in memory: only those the process runs are resident.
//!
//! On a page fault in a file mapping, Linux maps up to 16 neighbouring pages of the page cache
//! as well ("fault-around"). The `gatehouse` binary holds the gateway, the management API, the
//! portal and the Git endpoint; a gateway worker runs a small part of it, scattered over tens of
//! megabytes of code, and fault-around made 14–17 MiB of the binary resident under
//! bench/run.sh's load. `MADV_RANDOM` on the binary's read-only mappings turns fault-around off
//! for them, so a page is resident when it runs. Once started, the code only startup ran (argument
//! and config parsing, the components' construction) leaves the resident set too
//! ([`release_startup_code`]): the serving code faults its pages back in from the page cache as
//! it runs. Written by hand: no crate offers this, and it is one system call per mapping.

use std::fs;

/// Advises the kernel that the executable's read-only mappings (code and constants) are read at
/// random. Best effort: on failure the process only keeps more pages resident.
pub fn map_on_use_only() {
    let Some((exe, maps)) = own_maps() else {
        return;
    };
    for (start, end) in readonly_mappings_of(&maps, &exe) {
        // SAFETY: madvise with MADV_RANDOM changes only the kernel's read-ahead and fault-around
        // for an existing mapping of this process; it never changes the memory's contents.
        let rc =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_RANDOM) };
        if rc != 0 {
            tracing::debug!(
                start,
                end,
                "madvise(MADV_RANDOM) on the binary's pages failed"
            );
        }
    }
}

/// Drops the binary's code pages from this process's resident set: those still run are mapped
/// again on their next use, from the page cache (a minor fault, no I/O). Only executable
/// mappings: code is never relocated, so the file holds exactly what was mapped, whereas a
/// read-only data mapping may hold relocated pointers (RELRO) that the file does not.
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

/// `(start, end)` of each executable, non-writable mapping of `path`.
fn code_mappings_of(maps: &str, path: &str) -> Vec<(usize, usize)> {
    mappings_of(maps, path, |perms| perms.starts_with("r-x"))
}

/// `(start, end)` of each non-writable mapping of `path` in a `/proc/self/maps` text.
fn readonly_mappings_of(maps: &str, path: &str) -> Vec<(usize, usize)> {
    mappings_of(maps, path, |perms| perms.as_bytes().get(1) != Some(&b'w'))
}

/// `(start, end)` of each mapping of `path` in a `/proc/self/maps` text.
fn mappings_of(maps: &str, path: &str, keep: impl Fn(&str) -> bool) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let perms = fields.next()?;
            // offset, device, inode, then the path (which has no spaces for our binary).
            let name = fields.nth(3)?;
            if name != path || !keep(perms) {
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
    fn only_the_binarys_read_only_mappings_are_chosen() {
        let maps = "\
55d0a0000000-55d0a0400000 r--p 00000000 fd:01 123 /usr/bin/gatehouse
55d0a0400000-55d0a3000000 r-xp 00400000 fd:01 123 /usr/bin/gatehouse
55d0a3000000-55d0a3100000 rw-p 03000000 fd:01 123 /usr/bin/gatehouse
7f0000000000-7f0000100000 r-xp 00000000 fd:01 456 /usr/lib/x86_64-linux-gnu/libc.so.6
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0 [stack]
";
        assert_eq!(
            readonly_mappings_of(maps, "/usr/bin/gatehouse"),
            vec![
                (0x55d0a0000000, 0x55d0a0400000),
                (0x55d0a0400000, 0x55d0a3000000)
            ]
        );
        assert_eq!(
            code_mappings_of(maps, "/usr/bin/gatehouse"),
            vec![(0x55d0a0400000, 0x55d0a3000000)]
        );
    }

    #[test]
    fn the_running_test_binary_has_read_only_mappings() {
        let exe = fs::read_link("/proc/self/exe").expect("exe");
        let maps = fs::read_to_string("/proc/self/maps").expect("maps");
        assert!(!readonly_mappings_of(&maps, exe.to_str().expect("utf-8")).is_empty());
        map_on_use_only();
        // The code runs on after its pages left the resident set.
        release_startup_code();
        assert_eq!(readonly_mappings_of("", "x"), Vec::new());
    }
}
