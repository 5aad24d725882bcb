//! The check values of the Unisoc download protocols, shared by the host and the simulator.
//!
//! - BSL frames in a boot ROM: CRC-16/XMODEM (poly 0x1021, init 0, MSB first) over type, length
//!   and payload. amitv87/unisoc_dloader `crc.c` (`crc16BootCode`) and ilyakurdyukov/spreadtrum_flash
//!   `spd_dump.c` (`spd_crc16`) compute this function; the ROM ACK `7E 00 80 00 00 3B 5A 7E` checks.
//! - BSL frames in an FDL: the 16-bit one's-complement sum of big-endian words, inverted (RFC 1071
//!   style): unisoc_dloader `crc16FDL`, spd_dump `spd_checksum`; the FDL ACK `7E 00 80 00 00 FF 7F 7E`
//!   checks. For an odd length the tools disagree on the last byte (see [`fdl_sum_variants`]).
//! - The NV image the 8910 FDL2 takes at its NV logical address: CRC-16/ARC of the image after its
//!   first two bytes, stored big-endian in those two bytes, and the 32-bit byte sum of the sealed
//!   image sent in START_DATA (unisoc_dloader `crc.c` `nv_checksum_buf`, `main.c` `bsl_flash_id`).

use crc::{CRC_16_ARC, CRC_16_XMODEM, Crc};

/// CRC-16/XMODEM, the boot ROM check.
pub static CRC16_XMODEM: Crc<u16> = Crc::<u16>::new(&CRC_16_XMODEM);
/// CRC-16/ARC (the `crc16NV` table of unisoc_dloader: poly 0x8005 reflected, init 0).
pub static CRC16_ARC: Crc<u16> = Crc::<u16>::new(&CRC_16_ARC);

/// Which check a BSL frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// CRC-16/XMODEM: a boot ROM that speaks BSL (classic SPRD, UIS8850).
    Crc16,
    /// The inverted one's-complement sum: every FDL.
    Sum,
}

impl Check {
    /// The check value of `bytes` (type, length and payload) as this side sends it.
    pub fn compute(self, bytes: &[u8]) -> u16 {
        match self {
            Check::Crc16 => CRC16_XMODEM.checksum(bytes),
            Check::Sum => fdl_sum_variants(bytes)[0],
        }
    }

    /// Whether `value` is a check of `bytes` that a device accepts: exactly the CRC, or for the
    /// sum any of the odd-length variants the published tools send.
    pub fn accepts(self, bytes: &[u8], value: u16) -> bool {
        match self {
            Check::Crc16 => CRC16_XMODEM.checksum(bytes) == value,
            Check::Sum if bytes.len().is_multiple_of(2) => fdl_sum_variants(bytes)[0] == value,
            Check::Sum => fdl_sum_variants(bytes).contains(&value),
        }
    }
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xFFFF {
        sum = (sum >> 16) + (sum & 0xFFFF);
    }
    sum as u16
}

/// The FDL sum of `bytes`. For an even length all tools agree and the three values are equal.
/// For an odd length:
///
/// 0. RFC 1071: the last byte is the high byte of a zero-padded word. spd_dump checks received
///    frames this way (`CHK_ORIG`); the simulator sends odd frames with it.
/// 1. unisoc_dloader `crc16FDL`: the last byte is added as a low byte.
/// 2. spd_dump `CHK_FIXZERO`, what it sends: variant 0 with its bytes swapped.
pub fn fdl_sum_variants(bytes: &[u8]) -> [u16; 3] {
    let words = bytes.chunks_exact(2).fold(0u32, |s, w| s + u32::from(u16::from_be_bytes([w[0], w[1]])));
    match bytes.len() % 2 {
        0 => {
            let v = !fold(words);
            [v, v, v]
        }
        _ => {
            let last = u32::from(bytes[bytes.len() - 1]);
            let rfc = !fold(words + (last << 8));
            [rfc, !fold(words + last), rfc.swap_bytes()]
        }
    }
}

/// Seals an NV image for the 8910 FDL2: writes the CRC-16/ARC of `image[2..]` big-endian into
/// `image[..2]` and returns the checksum START_DATA carries (the 32-bit byte sum of the sealed
/// image). An image shorter than 2 bytes is returned unchanged with its byte sum.
pub fn seal_nv(image: &mut [u8]) -> u32 {
    if image.len() >= 2 {
        let crc = CRC16_ARC.checksum(&image[2..]);
        image[..2].copy_from_slice(&crc.to_be_bytes());
    }
    byte_sum(image)
}

/// Whether `image` is a sealed NV image whose byte sum is `checksum` (what the FDL2 checks).
pub fn nv_is_sealed(image: &[u8], checksum: u32) -> bool {
    image.len() >= 2
        && CRC16_ARC.checksum(&image[2..]).to_be_bytes() == [image[0], image[1]]
        && byte_sum(image) == checksum
}

/// The wrapping 32-bit sum of the bytes.
pub fn byte_sum(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |s, b| s.wrapping_add(u32::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_ack_frames_check() {
        // ROM ACK 7E 00 80 00 00 3B 5A 7E; FDL ACK 7E 00 80 00 00 FF 7F 7E.
        assert_eq!(Check::Crc16.compute(&[0, 0x80, 0, 0]), 0x3B5A);
        assert_eq!(Check::Sum.compute(&[0, 0x80, 0, 0]), 0xFF7F);
    }

    #[test]
    fn odd_sums_differ_as_the_tools_do() {
        let bytes = [0x00, 0x02, 0x00, 0x01, 0xAB];
        let [rfc, dloader, spd] = fdl_sum_variants(&bytes);
        // Words 0x0002 + 0x0001 = 0x0003.
        assert_eq!(rfc, !(0x0003u16 + 0xAB00));
        assert_eq!(dloader, !(0x0003u16 + 0x00AB));
        assert_eq!(spd, rfc.swap_bytes());
        for v in [rfc, dloader, spd] {
            assert!(Check::Sum.accepts(&bytes, v));
        }
        assert!(!Check::Sum.accepts(&bytes, rfc.wrapping_add(1)));
        assert!(!Check::Sum.accepts(&[0, 0x80, 0, 0], 0xFF7E));
    }

    #[test]
    fn carries_fold() {
        let bytes = [0xFF; 8];
        assert_eq!(Check::Sum.compute(&bytes), 0x0000);
    }

    #[test]
    fn nv_seal_round_trip() {
        let mut nv = vec![0u8, 0, 1, 2, 3, 250];
        let sum = seal_nv(&mut nv);
        assert!(nv_is_sealed(&nv, sum));
        assert_eq!(sum, nv.iter().map(|b| u32::from(*b)).sum::<u32>());
        nv[3] ^= 1;
        assert!(!nv_is_sealed(&nv, sum));
    }
}
