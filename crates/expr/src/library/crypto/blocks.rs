//! The block modes under `Aes`: CBC and ECB over the AES block function, with .NET's padding
//! modes (PKCS7, Zeros, None, ANSIX923, ISO10126), written out so that each pads and unpads
//! exactly as .NET does.

use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};

use super::symmetric::{BLOCK, Mode, Padding, Transform};
use super::*;

/// Encrypts or decrypts all of `data`, padding as the transform says.
pub(super) fn run(it: &mut Interp, t: &Transform, data: &[u8], at: usize) -> F<Vec<u8>> {
    it.charge(data.len().saturating_add(BLOCK), at)?;
    it.check_time(at)?;
    let cipher = Cipher::new(&t.key, at)?;
    if t.encrypt {
        let mut buf = data.to_vec();
        pad(&mut buf, t.padding, at)?;
        let mut prev: [u8; BLOCK] = iv_block(&t.iv);
        for chunk in buf.chunks_exact_mut(BLOCK) {
            if t.mode == Mode::Cbc {
                chunk.iter_mut().zip(prev.iter()).for_each(|(b, p)| *b ^= p);
            }
            cipher.encrypt(chunk);
            prev.copy_from_slice(chunk);
        }
        Ok(buf)
    } else {
        if !data.len().is_multiple_of(BLOCK) {
            return Err(crypto_err("The input data is not a complete block.", at));
        }
        let mut buf = data.to_vec();
        let mut prev: [u8; BLOCK] = iv_block(&t.iv);
        for chunk in buf.chunks_exact_mut(BLOCK) {
            let mut this = [0u8; BLOCK];
            this.copy_from_slice(chunk);
            cipher.decrypt(chunk);
            if t.mode == Mode::Cbc {
                chunk.iter_mut().zip(prev.iter()).for_each(|(b, p)| *b ^= p);
            }
            prev = this;
        }
        unpad(&mut buf, t.padding, at)?;
        Ok(buf)
    }
}

fn iv_block(iv: &[u8]) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    let n = iv.len().min(BLOCK);
    b[..n].copy_from_slice(&iv[..n]);
    b
}

fn pad(buf: &mut Vec<u8>, p: Padding, at: usize) -> F<()> {
    let n = BLOCK - buf.len() % BLOCK;
    match p {
        Padding::None if n != BLOCK => {
            return Err(crypto_err("The input data is not a complete block.", at));
        }
        Padding::None => {}
        Padding::Zeros if n != BLOCK => buf.resize(buf.len() + n, 0),
        Padding::Zeros => {}
        Padding::Pkcs7 => buf.resize(buf.len() + n, n as u8),
        Padding::AnsiX923 => {
            buf.resize(buf.len() + n - 1, 0);
            buf.push(n as u8);
        }
        Padding::Iso10126 => {
            buf.extend(random::bytes(n - 1));
            buf.push(n as u8);
        }
    }
    Ok(())
}

fn unpad(buf: &mut Vec<u8>, p: Padding, at: usize) -> F<()> {
    let bad = || crypto_err("Padding is invalid and cannot be removed.", at);
    if matches!(p, Padding::None | Padding::Zeros) {
        return Ok(());
    }
    let n = *buf.last().ok_or_else(bad)? as usize;
    if n == 0 || n > BLOCK || n > buf.len() {
        return Err(bad());
    }
    let body = buf.len() - n;
    let fill = &buf[body..buf.len() - 1];
    let ok = match p {
        Padding::Pkcs7 => fill.iter().all(|b| *b as usize == n),
        Padding::AnsiX923 => fill.iter().all(|b| *b == 0),
        _ => true,
    };
    if !ok {
        return Err(bad());
    }
    buf.truncate(body);
    Ok(())
}

/// AES with a 128-, 192- or 256-bit key.
enum Cipher {
    A128(aes::Aes128),
    A192(aes::Aes192),
    A256(aes::Aes256),
}

impl Cipher {
    fn new(key: &[u8], at: usize) -> F<Cipher> {
        let bad = |_| crypto_err("Specified key is not a valid size for this algorithm.", at);
        Ok(match key.len() {
            16 => Cipher::A128(aes::Aes128::new_from_slice(key).map_err(bad)?),
            24 => Cipher::A192(aes::Aes192::new_from_slice(key).map_err(bad)?),
            _ => Cipher::A256(aes::Aes256::new_from_slice(key).map_err(bad)?),
        })
    }

    fn encrypt(&self, block: &mut [u8]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Cipher::A128(c) => c.encrypt_block(b),
            Cipher::A192(c) => c.encrypt_block(b),
            Cipher::A256(c) => c.encrypt_block(b),
        }
    }

    fn decrypt(&self, block: &mut [u8]) {
        let b = GenericArray::from_mut_slice(block);
        match self {
            Cipher::A128(c) => c.decrypt_block(b),
            Cipher::A192(c) => c.decrypt_block(b),
            Cipher::A256(c) => c.decrypt_block(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(len: usize, p: Padding) -> Vec<u8> {
        let mut b = vec![7u8; len];
        assert!(pad(&mut b, p, 0).is_ok());
        b
    }

    #[test]
    fn pads_as_dotnet() {
        assert_eq!(padded(14, Padding::Pkcs7)[14..], [2, 2]);
        assert_eq!(padded(16, Padding::Pkcs7)[16..], [16; 16]);
        assert_eq!(padded(14, Padding::Zeros)[14..], [0, 0]);
        assert_eq!(padded(16, Padding::Zeros).len(), 16);
        assert_eq!(padded(13, Padding::AnsiX923)[13..], [0, 0, 3]);
        let iso = padded(13, Padding::Iso10126);
        assert_eq!((iso.len(), iso[15]), (16, 3));
        assert!(pad(&mut vec![0; 15], Padding::None, 0).is_err());
        assert_eq!(padded(32, Padding::None).len(), 32);
    }

    #[test]
    fn unpads_or_refuses() {
        for p in [Padding::Pkcs7, Padding::AnsiX923, Padding::Iso10126] {
            let mut b = padded(5, p);
            assert!(unpad(&mut b, p, 0).is_ok());
            assert_eq!(b, vec![7u8; 5], "{p:?}");
        }
        let mut bad = vec![1u8; 15];
        bad.push(3);
        assert!(unpad(&mut bad.clone(), Padding::Pkcs7, 0).is_err());
        assert!(unpad(&mut bad, Padding::AnsiX923, 0).is_err());
        let mut zero = vec![0u8; 16];
        assert!(unpad(&mut zero, Padding::Pkcs7, 0).is_err());
        let mut kept = vec![0u8; 16];
        assert!(unpad(&mut kept, Padding::Zeros, 0).is_ok());
        assert_eq!(kept.len(), 16);
    }
}
