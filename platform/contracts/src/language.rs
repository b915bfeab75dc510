use serde::{Deserialize, Serialize};

/// The language of a document, a notification or a request: Kazakh, Russian or English.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Kk,
    Ru,
    En,
}

impl Language {
    pub const ALL: [Self; 3] = [Self::Kk, Self::Ru, Self::En];

    /// `kk`, `ru` or `en`, in any case and with spaces around.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "kk" => Some(Self::Kk),
            "ru" => Some(Self::Ru),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kk => "kk",
            Self::Ru => "ru",
            Self::En => "en",
        }
    }
}
