//! Sans-I/O telnet codec for RFC 2217: splits data from commands (IAC IAC → 0xFF),
//! answers option negotiation, escapes outgoing data, builds COM-PORT-OPTION requests.

pub const IAC: u8 = 255;
const DONT: u8 = 254;
const DO: u8 = 253;
const WONT: u8 = 252;
const WILL: u8 = 251;
const SB: u8 = 250;
const SE: u8 = 240;
pub const BINARY: u8 = 0;
pub const SGA: u8 = 3;
pub const COM_PORT: u8 = 44;
/// COM-PORT-OPTION sub-commands (client → server); the server answers with +100.
pub const SET_BAUDRATE: u8 = 1;
pub const SET_DATASIZE: u8 = 2;
pub const SET_PARITY: u8 = 3;
pub const SET_STOPSIZE: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Option(u8),
    Sub,
    SubIac,
}

/// Decoder state plus replies owed to the server.
#[derive(Debug)]
pub struct Telnet {
    state: State,
    sub: Vec<u8>,
    /// Completed sub-negotiations from the server (without IAC SB / IAC SE).
    pub subnegotiations: Vec<Vec<u8>>,
}

impl Default for Telnet {
    fn default() -> Self {
        Self::new()
    }
}

impl Telnet {
    pub fn new() -> Self {
        Self {
            state: State::Data,
            sub: Vec::new(),
            subnegotiations: Vec::new(),
        }
    }

    /// What a client sends first: binary both ways, no go-ahead, COM-PORT-OPTION.
    pub fn hello() -> Vec<u8> {
        vec![
            IAC, WILL, BINARY, IAC, DO, BINARY, IAC, WILL, SGA, IAC, DO, SGA, IAC, WILL, COM_PORT,
        ]
    }

    /// Decode bytes from the server: appends data to `data`, returns bytes to send back.
    pub fn decode(&mut self, input: &[u8], data: &mut Vec<u8>) -> Vec<u8> {
        let mut reply = Vec::new();
        for &b in input {
            self.state = match (self.state, b) {
                (State::Data, IAC) => State::Iac,
                (State::Data, _) => {
                    data.push(b);
                    State::Data
                }
                (State::Iac, IAC) => {
                    data.push(IAC);
                    State::Data
                }
                (State::Iac, WILL | WONT | DO | DONT) => State::Option(b),
                (State::Iac, SB) => {
                    self.sub.clear();
                    State::Sub
                }
                (State::Iac, _) => State::Data, // NOP, GA, ... carry nothing for us
                (State::Option(verb), option) => {
                    reply.extend(answer(verb, option));
                    State::Data
                }
                (State::Sub, IAC) => State::SubIac,
                (State::Sub, _) => {
                    self.sub.push(b);
                    State::Sub
                }
                (State::SubIac, IAC) => {
                    self.sub.push(IAC);
                    State::Sub
                }
                (State::SubIac, SE) => {
                    self.subnegotiations.push(std::mem::take(&mut self.sub));
                    State::Data
                }
                (State::SubIac, _) => State::Sub,
            };
        }
        reply
    }
}

/// Agree to what we asked for; refuse everything else (RFC 854's rule, no loops: we
/// only answer requests, and our answers to our own options are what we already said).
fn answer(verb: u8, option: u8) -> Vec<u8> {
    let ours = matches!(option, BINARY | SGA | COM_PORT);
    match verb {
        DO if ours => vec![],
        DO => vec![IAC, WONT, option],
        WILL if matches!(option, BINARY | SGA) => vec![],
        WILL => vec![IAC, DONT, option],
        _ => vec![], // WONT / DONT: acknowledged by silence
    }
}

/// Escape data for the wire: 0xFF doubled.
pub fn escape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    for &b in data {
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
    }
    out
}

/// `IAC SB COM-PORT-OPTION <cmd> <value…> IAC SE`, value escaped.
pub fn com_port(cmd: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, COM_PORT, cmd];
    out.extend(escape(value));
    out.extend([IAC, SE]);
    out
}

/// Serial settings 8N1 at `baud`.
pub fn set_8n1(baud: u32) -> Vec<u8> {
    let mut out = com_port(SET_BAUDRATE, &baud.to_be_bytes());
    out.extend(com_port(SET_DATASIZE, &[8]));
    out.extend(com_port(SET_PARITY, &[1])); // 1 = none
    out.extend(com_port(SET_STOPSIZE, &[1])); // 1 = one stop bit
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_chunked(stream: &[u8], chunk: usize) -> (Vec<u8>, Vec<u8>, Vec<Vec<u8>>) {
        let mut t = Telnet::new();
        let mut data = Vec::new();
        let mut reply = Vec::new();
        for c in stream.chunks(chunk) {
            reply.extend(t.decode(c, &mut data));
        }
        (data, reply, t.subnegotiations)
    }

    #[test]
    fn data_commands_and_subnegotiation_in_every_chunking() {
        let mut stream = b"ab".to_vec();
        stream.extend([IAC, IAC]); // a literal 0xFF
        stream.extend([IAC, DO, BINARY, IAC, DO, 24]); // terminal type: refused
        stream.extend([IAC, WILL, 1]); // echo: refused
        stream.extend([IAC, SB, COM_PORT, 101, 0, 1, 0xC2, 0x00, IAC, SE]); // baud ack
        stream.extend(b"c\x04>");
        for chunk in 1..=stream.len() {
            let (data, reply, subs) = decode_chunked(&stream, chunk);
            assert_eq!(data, b"ab\xffc\x04>", "chunk {chunk}");
            assert_eq!(reply, [IAC, WONT, 24, IAC, DONT, 1], "chunk {chunk}");
            assert_eq!(
                subs,
                [vec![COM_PORT, 101, 0, 1, 0xC2, 0x00]],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn escaping_and_baud_request() {
        assert_eq!(escape(b"a\xffb"), b"a\xff\xffb");
        // 115200 = 0x0001C200
        assert_eq!(
            com_port(SET_BAUDRATE, &115_200u32.to_be_bytes()),
            [IAC, SB, COM_PORT, 1, 0, 1, 0xC2, 0, IAC, SE]
        );
        assert_eq!(
            com_port(SET_BAUDRATE, &[0xFF]),
            [IAC, SB, COM_PORT, 1, IAC, IAC, IAC, SE]
        );
    }
}
