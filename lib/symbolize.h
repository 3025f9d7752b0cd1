/* Symbolization: function names, files, lines and inlined frames for the
 * addresses of a profile, read from the ELF files its mappings name, with
 * elfutils' libdwfl.
 *
 * Files are read offline: nothing is asked of the profiled process, which
 * may be gone. Separate debug information is looked for on the local disk
 * only, as gdb and elfutils do:
 *
 *   /usr/lib/debug/.build-id/xx/yyyy.debug	by the file's GNU build-id;
 *   DIR/LINK, DIR/.debug/LINK, /usr/lib/debug/DIR/LINK
 *					by its .gnu_debuglink name LINK
 *					(DIR the file's directory), checked
 *					against the build-id, else the CRC;
 *   the same for a dwz file (.gnu_debugaltlink), checked by build-id.
 *
 * debuginfod is never used, whatever DEBUGINFOD_URLS says: elfutils 0.188
 * would dlopen libdebuginfod and query the servers in DEBUGINFOD_URLS
 * (if set and not empty) for every file whose debug information is not on
 * disk, from both of its standard find callbacks, so pp_symbolize installs
 * its own callbacks that stop before that step. Fetch debug files into
 * /usr/lib/debug (or with debuginfod-find) beforehand if they are wanted.
 *
 * Split DWARF (.dwo/.dwp) is not read: such files give function names
 * from the symbol table, and lines only as far as the skeleton has them.
 */
#ifndef PP_SYMBOLIZE_H
#define PP_SYMBOLIZE_H

#include <stddef.h>

#include "error.h"
#include "profile.h"

/* Symbolizes the locations of p that have an address and a mapping with
 * a file but no lines yet: for each, the function, file and line, and the
 * inlined frames (line[0] innermost, as in profile.proto), looked up in
 * the mapping's file. Frames are named from DWARF: the demangled linkage name
 * (system_name the linkage name), else DW_AT_name; so an alias reads as
 * the function that holds the address (malloc as __libc_malloc), and
 * foo.cold or foo.isra.0 as foo. Without DWARF for the address, the name
 * is the symbol table's (.symtab, else .dynsym: stripped objects get the
 * names of exported functions and no lines). File names are the line
 * table's, made absolute with DW_AT_comp_dir when that is absolute, as
 * addr2line does; start_line is DW_AT_decl_line. CUs are found without
 * .debug_aranges too (clang and Go do not write them). Addresses that
 * resolve to nothing keep their address and no lines. Functions equal in
 * name, system name, file and start line are shared, with those already
 * in p too.
 *
 * Location addresses are virtual addresses in the profiled process;
 * non-leaf frames are already call-site addresses (return address - 1),
 * so each address is looked up as it is, and each distinct address of a
 * file only once. A mapping's file is read once however many mappings
 * name it. Addresses are taken to the file's own addresses by the
 * mapping's load bias: 0 for ET_EXEC; for position-independent
 * executables and shared libraries, start - offset corrected by the
 * p_vaddr - p_offset of the PT_LOAD segment the mapping's offset falls in
 * (which is 0 with the GNU linker's layouts, not always with lld's).
 *
 * A mapping with no GNU build-id gets the file's, in lower-case hex; its
 * has_functions, has_filenames, has_line_numbers and has_inline_frames
 * are set when a name, a file, a line number, or DWARF scopes (so inline
 * frames are known, even if there were none) were found for one of its
 * addresses; they are never cleared.
 *
 * A mapping whose file cannot be opened as a regular ELF executable or
 * shared object, or whose build-id differs from the file's (or the file
 * has none), is skipped: its locations stay as they are, and *skipped (if
 * not NULL) is set to the number of such mappings. Names that are not
 * files at all ("[vdso]", "[kernel.kallsyms]", "//anon", "/memfd:...",
 * anything under /dev/) are left alone and not counted.
 *
 * flags is 0 or PP_SYMBOLIZE_SYSTEM_NAMES: then a file with no DWARF of
 * its own whose debug information is a separate file under /usr/lib/debug
 * (a distribution's debug package: libc6-dbg, glibc-debuginfo) gets
 * function names only, from that debug file's symbol table (which has the
 * local functions .dynsym lacks), and no files, lines or inlined frames:
 * its DWARF is never opened. Those sections are compressed and libdw
 * inflates all of them at once, whatever few addresses are asked (50 ms
 * and 10 MB for libc 2.36). DWARF in the file itself, or in a debug file
 * found next to it (DIR/LINK, DIR/.debug/LINK), is read as usual.
 *
 * Returns 0, or PP_ENOMEM (the profile then holds what was done so far,
 * still valid). Never prints; reads the named files, and so should not be
 * run on profiles from untrusted sources with paths the caller has not
 * vetted. */
#define PP_SYMBOLIZE_SYSTEM_NAMES	1u

int pp_symbolize(struct pp_profile *p, unsigned flags, size_t *skipped,
    struct pp_err *e);

#endif
