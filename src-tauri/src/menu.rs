//! The tray menu as data: ids and labels declared once, and a pure function
//! from the app's state to the menu, so it is tested without a display.
//! (`tray.rs` turns the model into native menu items and dispatches clicks.)

/// Every menu item the tray can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MenuId {
    Quit,
}

impl MenuId {
    pub const ALL: &'static [MenuId] = &[MenuId::Quit];

    /// The id the native menu reports back on a click.
    pub const fn as_str(self) -> &'static str {
        match self {
            MenuId::Quit => "quit",
        }
    }

    pub const fn label(self) -> &'static str {
        match self {
            MenuId::Quit => "Quit",
        }
    }

    pub fn parse(id: &str) -> Option<MenuId> {
        Self::ALL.iter().copied().find(|item| item.as_str() == id)
    }
}

/// One row of the tray menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuEntry {
    Item {
        id: MenuId,
        label: String,
        enabled: bool,
    },
    Separator,
}

impl MenuEntry {
    fn item(id: MenuId) -> Self {
        MenuEntry::Item {
            id,
            label: id.label().to_owned(),
            enabled: true,
        }
    }
}

/// The menu for the current state. Accounts and countdowns come later; the
/// signature will grow to `model(accounts, now)`.
pub fn model() -> Vec<MenuEntry> {
    vec![MenuEntry::item(MenuId::Quit)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_unique() {
        for id in MenuId::ALL {
            assert_eq!(MenuId::parse(id.as_str()), Some(*id));
        }
        let mut ids: Vec<_> = MenuId::ALL.iter().map(|id| id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), MenuId::ALL.len());
        assert_eq!(MenuId::parse("nope"), None);
    }

    #[test]
    fn menu_ends_with_quit() {
        let menu = model();
        assert!(matches!(
            menu.last(),
            Some(MenuEntry::Item {
                id: MenuId::Quit,
                enabled: true,
                ..
            })
        ));
    }
}
