"""One module per wizard screen; each edits the wizard state and marks its own fields' problems."""
