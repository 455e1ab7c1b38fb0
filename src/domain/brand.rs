//! A brand of the alias table: its name, the names sellers write for it,
//! and the companies that hold its certificates. Matching finds brands in
//! listings with it ([`crate::matching::brand`]); the store keeps the table.

use serde::{Deserialize, Serialize};

/// One row of the alias table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    pub name: String,
    pub aliases: Vec<String>,
    pub companies: Vec<String>,
    /// False for brands that are ordinary words (`小熊`, `老板`, `永久`): they
    /// are recognised in brand fields but not looked for in titles.
    #[serde(default = "yes")]
    pub title_search: bool,
}

fn yes() -> bool {
    true
}

impl Brand {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str()).chain(self.aliases.iter().map(String::as_str))
    }
}
