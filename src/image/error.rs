//! Errors reading a firmware package. Each names the package, the part and the problem.

/// Why a package could not be read. Every variant means: nothing was written, exit code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The file or folder could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The package (and member) path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A structure in the package is damaged: wrong magic, truncated, bad CRC, bad hash.
    #[error("{path}: {part}: {problem}")]
    Malformed {
        /// The package path.
        path: String,
        /// The member or structure, e.g. `partition.bin` or `PAC header`.
        part: String,
        /// What is wrong, naming both values where there are two (expected and found).
        problem: String,
    },
    /// The package is hostile or exceeds a safety cap: path traversal, a link, a zip bomb.
    #[error("{path}: refused: {problem}")]
    Unsafe {
        /// The package path.
        path: String,
        /// What was refused and which cap it hit.
        problem: String,
    },
    /// The path is neither a regular file nor a folder (a FIFO, a device, a socket); refused
    /// before it is opened.
    #[error("{path}: {kind}, not a package file or folder")]
    NotAFile {
        /// The path as given.
        path: String,
        /// What it is: `a FIFO (named pipe)`, `a character device`, ...
        kind: &'static str,
    },
    /// No reader recognises the package.
    #[error("{path}: not a firmware package fwguard can read: {reason}")]
    UnknownFormat {
        /// The package path.
        path: String,
        /// What was looked for and not found.
        reason: String,
    },
}

impl ImageError {
    /// A hint for the person who gave the package.
    pub fn hint(&self) -> &'static str {
        match self {
            ImageError::Io { .. } => "check the path and its permissions",
            ImageError::NotAFile { .. } => {
                "give the package as a file or folder; fwguard does not read from pipes, devices or sockets"
            }
            ImageError::Malformed { .. } => "the package is damaged or incomplete: download it again from the vendor",
            ImageError::Unsafe { .. } => "do not flash this package; obtain it again from a trusted source",
            ImageError::UnknownFormat { .. } => {
                "give a Qualcomm package (folder, .zip, .7z), an ASR or QuecPython .zip/.bin, a Unisoc .pac or an Eigencomm .binpkg"
            }
        }
    }
}
