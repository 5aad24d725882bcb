//! Hostile storage is refused with the right error, and nothing is written.

use std::fs;
use std::path::Path;

use proptest::prelude::*;

use super::*;
use crate::image::build::Content;
use crate::image::build::zip::{Hostile, write_zip};
use crate::image::{ImageError, inspect};

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> =
        walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

#[test]
fn hostile_zips_are_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    for &h in Hostile::ALL {
        let path = dir.path().join(h.file_name());
        h.write(&path).unwrap();
        let before = listing(dir.path());
        let err = match ZipPackage::open(&path) {
            Ok(_) => panic!("{h:?} was accepted"),
            Err(e) => e,
        };
        let text = err.to_string();
        let kind_ok = match h {
            Hostile::Truncated | Hostile::WrongMagic | Hostile::DeclaredSizeTooLarge => {
                matches!(err, ImageError::Malformed { .. })
            }
            _ => matches!(err, ImageError::Unsafe { .. }),
        };
        assert!(kind_ok, "{h:?}: {text}");
        assert!(text.contains(&path.display().to_string()), "{h:?}: {text}");
        let expected = match h {
            Hostile::Traversal | Hostile::BackslashTraversal => "'..'",
            Hostile::AbsolutePath => "absolute path",
            Hostile::DriveLetter => "drive letter",
            Hostile::Symlink => "symbolic link",
            Hostile::Bomb => "MAX_RATIO",
            Hostile::CaseDuplicate => "letter case",
            Hostile::Truncated => "central directory",
            Hostile::WrongMagic => "wrong magic",
            Hostile::DeclaredSizeTooLarge => "past the end",
        };
        assert!(text.contains(expected), "{h:?}: {text}");
        // The dispatcher gives the same refusal.
        assert_eq!(inspect(&path).unwrap_err().to_string(), text);
        assert_eq!(listing(dir.path()), before, "{h:?} wrote something");
    }
}

#[test]
fn zip_members_stream_with_bounded_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.zip");
    let files = vec![
        ("a/small.txt".to_string(), Content::text("hello")),
        ("a\\big.bin".to_string(), Content::Filler { len: 300_000, seed: 3 }),
    ];
    write_zip(&path, &files, true).unwrap();
    let mut z = ZipPackage::open(&path).unwrap();
    let names: Vec<&str> = z.members().iter().map(|m| m.path.as_str()).collect();
    assert_eq!(names, ["a/big.bin", "a/small.txt"]);
    assert_eq!(z.read("a/small.txt", 100).unwrap(), b"hello");
    assert!(matches!(z.read("a/big.bin", 1000), Err(ImageError::Unsafe { .. })));
    assert!(matches!(z.read("nope", 1000), Err(ImageError::Malformed { .. })));
    let h = z.hash("a/big.bin").unwrap();
    assert_eq!(h.sha256, files[1].1.sha256().unwrap());
    assert_eq!(h.size, 300_000);
}

#[test]
fn zip_crc_damage_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.zip");
    write_zip(&path, &[("x.bin".to_string(), Content::Filler { len: 5000, seed: 1 })], false).unwrap();
    let mut bytes = fs::read(&path).unwrap();
    bytes[100] ^= 0xFF;
    fs::write(&path, &bytes).unwrap();
    let mut z = ZipPackage::open(&path).unwrap();
    let err = z.hash("x.bin").unwrap_err();
    assert!(matches!(err, ImageError::Malformed { ref part, .. } if part == "x.bin"), "{err}");
}

#[cfg(unix)]
#[test]
fn folder_links_stay_inside() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("pkg");
    fs::create_dir_all(pkg.join("update")).unwrap();
    fs::write(pkg.join("update/sbl1.mbn"), b"sbl").unwrap();
    symlink(pkg.join("update/sbl1.mbn"), pkg.join("update/alias.mbn")).unwrap();
    symlink(&pkg, pkg.join("update/loop")).unwrap();
    let mut f = FolderPackage::open(&pkg).unwrap();
    let names: Vec<&str> = f.members().iter().map(|m| m.path.as_str()).collect();
    assert_eq!(names, ["update/alias.mbn", "update/sbl1.mbn"]);
    assert_eq!(f.read("update/alias.mbn", 10).unwrap(), b"sbl");

    let outside = dir.path().join("secret");
    fs::write(&outside, b"x").unwrap();
    symlink(&outside, pkg.join("update/escape.mbn")).unwrap();
    let err = FolderPackage::open(&pkg).unwrap_err();
    assert!(matches!(err, ImageError::Unsafe { .. }) && err.to_string().contains("leaves the package"), "{err}");
    fs::remove_file(pkg.join("update/escape.mbn")).unwrap();

    nix::unistd::mkfifo(&pkg.join("update/pipe"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let err = FolderPackage::open(&pkg).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn storage_by_content_then_suffix() {
    let dir = tempfile::tempdir().unwrap();
    let zip_named_bin = dir.path().join("x.bin");
    write_zip(&zip_named_bin, &[("a".into(), Content::text("a"))], false).unwrap();
    assert_eq!(storage_of(&zip_named_bin).unwrap(), Storage::Zip);
    let text = dir.path().join("y.zip");
    fs::write(&text, b"not a zip").unwrap();
    assert_eq!(storage_of(&text).unwrap(), Storage::Zip);
    let other = dir.path().join("y.pac");
    fs::write(&other, b"whatever").unwrap();
    assert_eq!(storage_of(&other).unwrap(), Storage::File);
    assert!(matches!(inspect(&other), Err(ImageError::UnknownFormat { .. })));
    let empty = dir.path().join("e.7z");
    fs::write(&empty, b"").unwrap();
    assert!(matches!(SevenZPackage::open(&empty), Err(ImageError::Malformed { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random bytes given as a zip, a 7z or any file never panic the readers.
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), prefix in 0usize..3) {
        let dir = tempfile::tempdir().unwrap();
        let mut data = match prefix {
            0 => ZIP_MAGIC.to_vec(),
            1 => SEVEN_Z_MAGIC.to_vec(),
            _ => Vec::new(),
        };
        data.extend_from_slice(&bytes);
        for name in ["p.zip", "p.7z", "p.bin"] {
            let path = dir.path().join(name);
            fs::write(&path, &data).unwrap();
            let _ = inspect(&path);
        }
    }

    /// Random changes to a real zip never panic the readers.
    #[test]
    fn damaged_zips_never_panic(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("EC25EFAR06A17M4G_20.200.20.200.zip");
        crate::image::build::qualcomm::QualcommBuilder::ec25("EC25EFAR06A17M4G_20.200.20.200").write_zip(&path).unwrap();
        let mut data = fs::read(&path).unwrap();
        for (i, b) in flips {
            let at = i.index(data.len());
            data[at] ^= b;
        }
        fs::write(&path, &data).unwrap();
        let _ = inspect(&path);
    }
}

fn write_7z(path: &Path, entries: Vec<(sevenz_rust2::ArchiveEntry, &[u8])>) {
    let mut w = sevenz_rust2::ArchiveWriter::create(path).unwrap();
    for (entry, data) in entries {
        w.push_archive_entry(entry, Some(data)).unwrap();
    }
    w.finish().unwrap();
}

#[test]
fn hostile_7z_entries_are_refused() {
    use sevenz_rust2::ArchiveEntry;
    let dir = tempfile::tempdir().unwrap();
    let traversal = dir.path().join("t.7z");
    write_7z(&traversal, vec![(ArchiveEntry::new_file("../../evil.sh"), b"x")]);
    let err = SevenZPackage::open(&traversal).err().unwrap();
    assert!(matches!(err, ImageError::Unsafe { .. }) && err.to_string().contains("'..'"), "{err}");

    let link = dir.path().join("l.7z");
    let mut entry = ArchiveEntry::new_file("pkg/update/sbl1.mbn");
    entry.has_windows_attributes = true;
    entry.windows_attributes = 0x8000 | (0o120777 << 16);
    write_7z(&link, vec![(entry, b"/etc/passwd")]);
    let err = SevenZPackage::open(&link).err().unwrap();
    assert!(err.to_string().contains("symbolic link"), "{err}");

    let good = dir.path().join("g.7z");
    write_7z(&good, vec![(ArchiveEntry::new_file("a/b.txt"), b"hello"), (ArchiveEntry::new_file("a/c.txt"), b"world")]);
    let mut p = SevenZPackage::open(&good).unwrap();
    assert_eq!(p.read("a/c.txt", 100).unwrap(), b"world");
    assert_eq!(p.hash("a/b.txt").unwrap().size, 5);
    assert!(matches!(p.read("a/zzz", 100), Err(ImageError::Malformed { .. })));
    let mut bytes = fs::read(&good).unwrap();
    let len = bytes.len();
    bytes.truncate(len - 10);
    fs::write(&good, &bytes).unwrap();
    let err = SevenZPackage::open(&good).err().unwrap();
    assert!(matches!(err, ImageError::Malformed { .. }) && err.to_string().contains("truncated"), "{err}");
}

#[test]
fn one_member_streams_from_an_offset_in_every_storage() {
    let dir = tempfile::tempdir().unwrap();
    let big = Content::Filler { len: 300_000, seed: 9 };
    let mut whole = Vec::new();
    std::io::Read::read_to_end(&mut big.reader(), &mut whole).unwrap();
    let files = vec![("a/small.txt".to_string(), Content::text("hello")), ("a/big.bin".to_string(), big.clone())];
    fs::create_dir_all(dir.path().join("folder/a")).unwrap();
    fs::write(dir.path().join("folder/a/small.txt"), "hello").unwrap();
    fs::write(dir.path().join("folder/a/big.bin"), &whole).unwrap();
    write_zip(&dir.path().join("p.zip"), &files, true).unwrap();
    let seven = crate::image::build::qualcomm::QualcommBuilder::ec25("EC25EFAR06A17M4G_20.200.20.200");
    seven.write_7z(&dir.path().join("q.7z")).unwrap();
    fs::write(dir.path().join("one.pac"), &whole).unwrap();

    let cases: Vec<(Box<dyn crate::image::Package>, &str)> = vec![
        (Box::new(FolderPackage::open(&dir.path().join("folder")).unwrap()), "a/big.bin"),
        (Box::new(ZipPackage::open(&dir.path().join("p.zip")).unwrap()), "a/big.bin"),
        (open_package(&dir.path().join("one.pac")).unwrap(), "one.pac"),
    ];
    for (mut pkg, member) in cases {
        for offset in [0u64, 1, 65_537, 300_000] {
            let mut got = Vec::new();
            pkg.stream_member(member, offset, &mut |m, r| {
                assert_eq!(m.size, 300_000);
                r.read_to_end(&mut got).map(|_| ()).map_err(|e| super::guard::read_failure("p", &m.path, e))
            })
            .unwrap();
            assert_eq!(got, whole[offset as usize..], "{} {member} at {offset}", pkg.path());
        }
        let err = pkg.stream_member(member, 300_001, &mut |_, _| Ok(())).unwrap_err();
        assert!(err.to_string().contains("past the member's end"), "{err}");
        assert!(pkg.stream_member("nope", 0, &mut |_, _| Ok(())).is_err());
    }

    // A 7z member streams from an offset too (its solid stream is decoded up to it).
    let mut pkg = SevenZPackage::open(&dir.path().join("q.7z")).unwrap();
    let member = pkg.members().iter().find(|m| m.path.ends_with("update/tz.mbn")).unwrap().clone();
    let whole = pkg.read(&member.path, 1 << 30).unwrap();
    let mut got = Vec::new();
    pkg.stream_member(&member.path, 10, &mut |m, r| {
        r.read_to_end(&mut got).map(|_| ()).map_err(|e| super::guard::read_failure("p", &m.path, e))
    })
    .unwrap();
    assert_eq!(got, whole[10..]);
}
