// SPDX-License-Identifier: GPL-2.0
/*
 * spice: the command-line side of Spice.
 *
 * Exit status: 0 success, 1 failure, 2 usage error.  Errors go to stderr.
 */
#include <stdio.h>
#include <string.h>

#include <spice/spice.h>

#include "commands.h"

struct command {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static int cmd_abi(int argc, char **argv)
{
	int json = 0, v, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return -1;
		else
			return fprintf(stderr, "spice abi: unknown option %s\n", argv[i]),
			       EXIT_USAGE;
	}

	v = spice_abi_version();
	if (json) {
		printf("{\"libspice\":\"%s\",\"kernel_abi\":%d}\n", spice_version(),
		       v > 0 ? v : 0);
	} else if (v > 0) {
		printf("kernel Spice ABI %d (restore_process, mmap_restore); libspice %s\n",
		       v, spice_version());
	} else {
		printf("kernel without Spice (CONFIG_SPICE); libspice %s\n",
		       spice_version());
	}
	return v > 0 ? 0 : 1;
}

static const struct command commands[] = {
	{ "abi", "show the Spice ABI of the running kernel", cmd_abi,
	  "usage: spice abi [--json]\n"
	  "\n"
	  "Print the Spice ABI version that the running kernel offers.  Exits 1\n"
	  "on a kernel without Spice.\n"
	  "  --json   print {\"libspice\": VERSION, \"kernel_abi\": N}, 0 without Spice\n" },
	{ "dump", "checkpoint a running process to an image", cmd_dump,
	  usage_dump },
	{ "inspect", "describe what an image holds", cmd_inspect,
	  usage_inspect },
	{ "verify", "check an image as restore_process() would", cmd_verify,
	  usage_verify },
	{ "run", "start a function, warm it up and snapshot it", cmd_run,
	  usage_run },
	{ "record", "record the working set of an image's first requests",
	  cmd_record, usage_record },
	{ "restore", "become the process saved in an image", cmd_restore,
	  usage_restore },
	{ "export-core", "write an image as an ELF core file for gdb", cmd_export_core,
	  usage_export_core },
};

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: spice [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'spice COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		print_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("spice %s\n", spice_version());
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		rc = commands[i].run(argc - 1, argv + 1);
		if (rc < 0) {
			fputs(commands[i].usage, stdout);
			return 0;
		}
		return rc;
	}
	fprintf(stderr, "spice: unknown command '%s'\n", argv[1]);
	print_usage(stderr);
	return EXIT_USAGE;
}
