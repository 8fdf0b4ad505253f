"""The urwid installation wizard: screens, the wizard state they edit, and the app that runs them."""
