//! Scripts that write a binary file (a `.mpy`) onto a board's filesystem in a compact
//! encoding — base64 without padding, decoded by a small function on the board (1.33×
//! the file size on the wire instead of a bytes literal's ~2.5×) — and remove it again.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Opens the file and defines `_w(s)`, which decodes one base64 string and appends it.
/// Written for MicroPython 1.9 (no `ubinascii` on small ports): the accumulator is masked
/// to 16 bits so it stays a small int.
pub fn open_script(file_name: &str) -> String {
    format!(
        "_A='{}'\n_f=open({:?},'wb')\ndef _w(s):\n b=bytearray()\n n=0\n k=0\n for c in s:\n  n=((n<<6)|_A.find(c))&65535\n  k+=6\n  if k>=8:\n   k-=8\n   b.append((n>>k)&255)\n _f.write(b)\n",
        std::str::from_utf8(ALPHABET).expect("ascii alphabet"),
        file_name
    )
}

/// Scripts of `_w('...')` lines, each script at most about `script_bytes` long, so the
/// board's raw-REPL input buffer and compiler stay small on a tiny heap.
pub fn chunk_scripts(bytes: &[u8], script_bytes: usize) -> Vec<String> {
    // Per line: `_w('` + payload + `')\n` = 7 bytes of overhead. Payload in 4-char
    // groups (3 input bytes each) so lines decode independently.
    let line_payload = 160;
    let per_script = (script_bytes / (line_payload + 7)).max(1);
    let lines: Vec<String> = bytes
        .chunks(line_payload / 4 * 3)
        .map(|chunk| format!("_w('{}')\n", encode(chunk)))
        .collect();
    lines.chunks(per_script).map(|ls| ls.concat()).collect()
}

/// Closes the file and forgets the helpers.
pub fn close_script() -> &'static str {
    "_f.close()\ndel _f,_w,_A\n"
}

/// Removes the file; silent if it is already gone.
pub fn remove_script(file_name: &str) -> String {
    format!("import os\ntry:\n os.remove({file_name:?})\nexcept OSError:\n pass\n")
}

/// Base64 without `=` padding (the decoder ignores the leftover bits).
pub fn encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The board's decoder, transcribed to Rust, to check encode/decode agree.
    fn board_decode(s: &str) -> Vec<u8> {
        let (mut n, mut k, mut out) = (0u32, 0, Vec::new());
        for c in s.bytes() {
            let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
            n = ((n << 6) | v) & 65535;
            k += 6;
            if k >= 8 {
                k -= 8;
                out.push((n >> k & 255) as u8);
            }
        }
        out
    }

    #[test]
    fn encoding_round_trips_through_the_board_decoder() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        for len in 0..40 {
            assert_eq!(
                board_decode(&encode(&data[..len])),
                &data[..len],
                "len {len}"
            );
        }
        assert_eq!(encode(b"Man"), "TWFu");
        assert_eq!(encode(b"Ma"), "TWE");
    }

    #[test]
    fn scripts_stay_small_and_compact() {
        let data = vec![0xABu8; 3000];
        let scripts = chunk_scripts(&data, 512);
        assert!(
            scripts.iter().all(|s| s.len() <= 512),
            "{:?}",
            scripts.iter().map(String::len).collect::<Vec<_>>()
        );
        let total: usize = scripts.iter().map(String::len).sum();
        assert!(
            total < data.len() * 14 / 10,
            "{total} bytes on the wire for 3000"
        );
        let decoded: Vec<u8> = scripts
            .iter()
            .flat_map(|s| s.lines())
            .flat_map(|l| board_decode(l.trim_start_matches("_w('").trim_end_matches("')")))
            .collect();
        assert_eq!(decoded, data);
    }
}
