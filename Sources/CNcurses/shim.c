/* The CNcurses target is header-only; this file gives SwiftPM a C target to build, so that
 * edits to CNcurses.h trigger a rebuild (a .systemLibrary would not). */
#include "CNcurses.h"
