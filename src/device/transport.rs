//! The byte link a session runs over: a serial port, or (in tests) a scripted module.

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

/// A byte link to a module: a serial port, or a scripted stand-in in tests.
pub trait Transport {
    /// Reads what has arrived, waiting at most `timeout`. `Ok(0)` means nothing arrived in time;
    /// a closed link is an error.
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Sends all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
}

/// A serial port (a tty, or a pseudo-terminal) as a [`Transport`].
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
}

impl SerialTransport {
    /// Opens `path` in raw mode, 8N1, no flow control, exclusively.
    pub fn open(path: &Path, baud_rate: u32) -> Result<SerialTransport, serialport::Error> {
        let port = serialport::new(path.to_string_lossy(), baud_rate).timeout(Duration::from_millis(100)).open()?;
        Ok(SerialTransport { port })
    }
}

impl Transport for SerialTransport {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.port.set_timeout(timeout).map_err(io::Error::from)?;
        match self.port.read(buf) {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "end of file on the port")),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.set_timeout(Duration::from_secs(1)).map_err(io::Error::from)?;
        self.port.write_all(bytes)
    }
}
