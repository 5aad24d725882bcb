//! The byte formats of the Unisoc download protocols, in one place for both sides: the host
//! sessions (`flash::unisoc`) encode requests and decode replies with them, the simulated module
//! (`sim::unisoc`) decodes requests and encodes replies.

pub mod bsl;
pub mod check;
pub mod payload;
pub mod pdl;

/// Declares a protocol code enum with names (as the published tools spell them), an `Other`
/// variant for codes with no name, `code`, `from_code`, `name` and `Display` ("NAME (code)").
macro_rules! unisoc_codes {
    ($int:ty, $(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $val:expr, $text:expr;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $var,)*
            /// A code with no name.
            Other($int),
        }

        impl $name {
            /// The code on the wire.
            pub fn code(self) -> $int {
                match self {
                    $($name::$var => $val,)*
                    $name::Other(c) => c,
                }
            }

            /// The value for a code.
            pub fn from_code(code: $int) -> $name {
                match code {
                    $($val => $name::$var,)*
                    c => $name::Other(c),
                }
            }

            /// The name the published tools use.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$var => $text,)*
                    $name::Other(_) => "unnamed",
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{} ({:#x})", self.name(), self.code())
            }
        }
    };
}
pub(crate) use unisoc_codes as codes;
