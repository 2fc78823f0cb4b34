//! What a deploy uploads: the arm64 `bootstrap` from `cargo lambda build
//! --release --arm64`, and its zip (`--output-format zip`, the same single
//! `bootstrap` entry that `sam build` packs for a `rust-cargolambda` function).

use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct Artifact {
    pub bootstrap_bytes: u64,
    /// `aarch64`, `x86_64`, or the ELF machine number.
    pub machine: String,
    /// No symbol table left in the file.
    pub stripped: bool,
    pub zip_bytes: u64,
    /// The zip's entries: (name, uncompressed size).
    pub zip_entries: Vec<(String, u64)>,
}

/// The artifacts of `function` under `lambda_dir` (the `--lambda-dir` of
/// the two builds: `binary/<function>/bootstrap`, `zip/<function>/bootstrap.zip`).
pub fn measure(lambda_dir: &Path, function: &str) -> Result<Artifact, String> {
    let bootstrap = lambda_dir.join("binary").join(function).join("bootstrap");
    let zip = lambda_dir.join("zip").join(function).join("bootstrap.zip");
    let elf = std::fs::read(&bootstrap).map_err(|err| format!("{}: {err}", bootstrap.display()))?;
    let (machine, stripped) =
        elf_facts(&elf).ok_or_else(|| format!("{} is not an ELF64 file", bootstrap.display()))?;
    let archive = std::fs::read(&zip).map_err(|err| format!("{}: {err}", zip.display()))?;
    let zip_entries =
        zip_entries(&archive).ok_or_else(|| format!("{} is not a zip file", zip.display()))?;
    Ok(Artifact {
        bootstrap_bytes: elf.len() as u64,
        machine,
        stripped,
        zip_bytes: archive.len() as u64,
        zip_entries,
    })
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

/// The ELF machine, and whether no section is a symbol table (`SHT_SYMTAB`).
fn elf_facts(elf: &[u8]) -> Option<(String, bool)> {
    // 64-bit, little-endian.
    if elf.get(..4)? != b"\x7fELF" || *elf.get(4)? != 2 || *elf.get(5)? != 1 {
        return None;
    }
    let machine = match u16_at(elf, 0x12)? {
        183 => "aarch64".to_owned(),
        62 => "x86_64".to_owned(),
        other => format!("ELF machine {other}"),
    };
    let section_table = usize::try_from(u64_at(elf, 0x28)?).ok()?;
    let entry_size = usize::from(u16_at(elf, 0x3A)?);
    let count = usize::from(u16_at(elf, 0x3C)?);
    const SHT_SYMTAB: u32 = 2;
    let has_symtab = (0..count)
        .filter_map(|index| u32_at(elf, section_table + index * entry_size + 4))
        .any(|kind| kind == SHT_SYMTAB);
    Some((machine, !has_symtab))
}

/// The entries of a zip, from its central directory.
fn zip_entries(zip: &[u8]) -> Option<Vec<(String, u64)>> {
    const END: u32 = 0x0605_4b50;
    const ENTRY: u32 = 0x0201_4b50;
    let end = (0..=zip.len().checked_sub(22)?)
        .rev()
        .find(|&at| u32_at(zip, at) == Some(END))?;
    let count = usize::from(u16_at(zip, end + 10)?);
    let mut at = usize::try_from(u32_at(zip, end + 16)?).ok()?;
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        if u32_at(zip, at)? != ENTRY {
            return None;
        }
        let size = u64::from(u32_at(zip, at + 24)?);
        let name_len = usize::from(u16_at(zip, at + 28)?);
        let extra_len = usize::from(u16_at(zip, at + 30)?);
        let comment_len = usize::from(u16_at(zip, at + 32)?);
        let name = String::from_utf8_lossy(zip.get(at + 46..at + 46 + name_len)?).into_owned();
        entries.push((name, size));
        at += 46 + name_len + extra_len + comment_len;
    }
    Some(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_stored_zip() {
        // A zip with one stored entry "a" holding "hi", as `zip -0` writes it.
        let mut zip = Vec::new();
        zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        zip.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&0u32.to_le_bytes()); // crc (unchecked here)
        zip.extend_from_slice(&2u32.to_le_bytes());
        zip.extend_from_slice(&2u32.to_le_bytes());
        zip.extend_from_slice(&1u16.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        zip.extend_from_slice(b"ahi");
        let central = zip.len() as u32;
        zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        zip.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        zip.extend_from_slice(&0u32.to_le_bytes());
        zip.extend_from_slice(&2u32.to_le_bytes());
        zip.extend_from_slice(&2u32.to_le_bytes());
        zip.extend_from_slice(&1u16.to_le_bytes()); // name
        zip.extend_from_slice(&[0; 12]); // extra, comment, disk, attrs
        zip.extend_from_slice(&0u32.to_le_bytes()); // local header offset
        zip.extend_from_slice(b"a");
        let size = zip.len() as u32 - central;
        zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        zip.extend_from_slice(&[0, 0, 0, 0, 1, 0, 1, 0]);
        zip.extend_from_slice(&size.to_le_bytes());
        zip.extend_from_slice(&central.to_le_bytes());
        zip.extend_from_slice(&0u16.to_le_bytes());
        assert_eq!(zip_entries(&zip), Some(vec![("a".to_owned(), 2)]));
    }

    #[test]
    fn this_test_binary_is_an_unstripped_host_elf() {
        let exe = std::env::current_exe().expect("the test binary's path");
        let bytes = std::fs::read(exe).expect("read the test binary");
        let (machine, stripped) = elf_facts(&bytes).expect("an ELF64 file");
        assert_eq!(machine, std::env::consts::ARCH);
        assert!(!stripped, "a debug test binary keeps its symbols");
    }
}
