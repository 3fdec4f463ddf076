from tui.entry import entry

entry()
