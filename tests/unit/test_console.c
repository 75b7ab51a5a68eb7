/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the console client's pure parts (libconclient,
 * src/isles/conesc.c and conscreen.c): the `@` escape parser and the
 * screen formatter (line buffering per VM, colours / prefixes, removal of
 * the guest's terminal controls).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "isles/conesc.h"
#include "isles/conscreen.h"

static const char names2[][CON_MAX_NAME + 1] = { "vm0", "vm1" };

/* Feed a string; collect the bytes sent per VM and the last non-send act. */
struct fed {
	char sent[CON_MAX_VMS][256];
	size_t nsent[CON_MAX_VMS];
	struct con_act last;
	int nacts;		/* non-NONE, non-SEND actions */
};

static void
feed(struct con_esc *e, const char *s, struct fed *f)
{
	memset(f, 0, sizeof(*f));
	for (; *s != '\0'; s++) {
		struct con_act a;

		con_esc_feed(e, (uint8_t)*s, &a);
		if (a.kind == CON_ACT_SEND) {
			for (unsigned i = 0; i < CON_MAX_VMS; i++)
				if (a.vms & (1u << i))
					f->sent[i][f->nsent[i]++] = (char)a.byte;
		} else if (a.kind != CON_ACT_NONE) {
			f->last = a;
			f->nacts++;
		}
	}
}

static void
test_plain_to_first_vm(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 2, names2, -1);
	feed(&e, "ls -l\r", &f);
	assert_string_equal(f.sent[0], "ls -l\r");
	assert_int_equal(f.nsent[1], 0);
	assert_int_equal(f.nacts, 0);
}

static void
test_switch_by_number(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 2, names2, -1);
	feed(&e, "@1", &f);
	assert_int_equal(f.last.kind, CON_ACT_SWITCH);
	assert_int_equal(f.last.vms, 2);
	assert_string_equal(f.last.msg, "Switching input to 1 (vm1)");
	assert_int_equal(f.nsent[0] + f.nsent[1], 0);	/* escape never sent */
	feed(&e, "hostname\r", &f);
	assert_string_equal(f.sent[1], "hostname\r");
	assert_int_equal(f.nsent[0], 0);
}

static void
test_at_only_at_line_start(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 2, names2, -1);
	feed(&e, "a@1b", &f);
	assert_string_equal(f.sent[0], "a@1b");
	assert_int_equal(f.nacts, 0);
	/* After Return, LF, ^C and ^Z the escape counts again. */
	const char *ends[] = { "\r", "\n", "\x03", "\x1a" };

	for (int i = 0; i < 4; i++) {
		char in[8];

		con_esc_init(&e, 2, names2, -1);
		snprintf(in, sizeof(in), "x%s@1", ends[i]);
		feed(&e, in, &f);
		assert_int_equal(f.last.kind, CON_ACT_SWITCH);
		assert_int_equal(f.nsent[0], 2);
	}
}

static void
test_double_at_sends_one(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 2, names2, -1);
	feed(&e, "@@1", &f);
	/* One '@', then the line is no longer at its start: "1" is text. */
	assert_string_equal(f.sent[0], "@1");
	assert_int_equal(f.nacts, 0);
}

static void
test_multi(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 3, (const char[][CON_MAX_NAME + 1]){ "a", "b", "c" },
	    -1);
	feed(&e, "@m0 2m", &f);
	assert_int_equal(f.last.kind, CON_ACT_SWITCH);
	assert_int_equal(f.last.vms, 5);
	assert_string_equal(f.last.msg, "Switching input to 0 (a), 2 (c)");
	feed(&e, "uptime\r", &f);
	assert_string_equal(f.sent[0], "uptime\r");
	assert_string_equal(f.sent[2], "uptime\r");
	assert_int_equal(f.nsent[1], 0);
	/* Ended by Return, comma separated. */
	feed(&e, "@m1,2\r", &f);
	assert_int_equal(f.last.vms, 6);
	/* Nothing given, or a bad number: refused, input target unchanged. */
	feed(&e, "@mm", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
	feed(&e, "@m7m", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
	feed(&e, "x", &f);
	assert_int_equal(f.nsent[1], 1);
	assert_int_equal(f.nsent[2], 1);
	assert_int_equal(f.nsent[0], 0);
}

static void
test_help_quit_detach(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 2, names2, -1);
	feed(&e, "@?", &f);
	assert_int_equal(f.last.kind, CON_ACT_HELP);
	feed(&e, "@d", &f);
	assert_int_equal(f.last.kind, CON_ACT_DETACH);
	feed(&e, "@q", &f);
	assert_int_equal(f.last.kind, CON_ACT_QUIT);
	assert_int_equal(f.nsent[0] + f.nsent[1], 0);
}

static void
test_unknown_refused(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 2, names2, -1);
	feed(&e, "@x", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
	assert_non_null(strstr(f.last.msg, "'@x'"));
	assert_int_equal(f.nsent[0], 0);
	/* Still at the start of a line: the next escape works, text flows. */
	feed(&e, "@1", &f);
	assert_int_equal(f.last.kind, CON_ACT_SWITCH);
	feed(&e, "@ @\x1b@5@\r", &f);
	assert_int_equal(f.nacts, 4);
	assert_int_equal(f.nsent[0] + f.nsent[1], 0);
}

static void
test_names(void **state)
{
	static const char n[][CON_MAX_NAME + 1] = { "alpha", "beta", "mail" };
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 3, n, -1);
	feed(&e, "@beta\r", &f);
	assert_int_equal(f.last.kind, CON_ACT_SWITCH);
	assert_int_equal(f.last.vms, 2);
	/* "m" begins a VM name, so @m waits for the name... */
	feed(&e, "@mail\r", &f);
	assert_int_equal(f.last.kind, CON_ACT_SWITCH);
	assert_int_equal(f.last.vms, 4);
	/* ...and a typo is refused as soon as no name matches. */
	feed(&e, "@bx", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
	/* Backspace edits the name. */
	feed(&e, "@al\x7f\x7f" "beta\r", &f);
	assert_int_equal(f.nacts, 1);
	assert_int_equal(f.last.kind, CON_ACT_SWITCH);
	assert_int_equal(f.last.vms, 2);
	/* A prefix that is not a whole name. */
	feed(&e, "@alp\r", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
	feed(&e, "@q", &f);
	assert_int_equal(f.last.kind, CON_ACT_QUIT);
	/* "@m" followed by a number is still multi-VM input. */
	feed(&e, "@m0 2m", &f);
	assert_int_equal(f.nacts, 1);
	assert_int_equal(f.last.kind, CON_ACT_SWITCH);
	assert_int_equal(f.last.vms, 5);
	feed(&e, "@m 1\r", &f);
	assert_int_equal(f.last.vms, 2);
	assert_int_equal(f.nsent[0] + f.nsent[1] + f.nsent[2], 0);
}

static void
test_many_vms(void **state)
{
	char n[12][CON_MAX_NAME + 1];
	struct con_esc e;
	struct fed f;

	(void)state;
	for (int i = 0; i < 12; i++)
		snprintf(n[i], sizeof(n[i]), "v%d", i);
	con_esc_init(&e, 12, n, -1);
	feed(&e, "@11", &f);
	assert_int_equal(f.nacts, 1);
	assert_int_equal(f.last.vms, 1u << 11);
	feed(&e, "@1\r", &f);
	assert_int_equal(f.last.vms, 1u << 1);
	feed(&e, "@2", &f);
	assert_int_equal(f.last.vms, 1u << 2);
	feed(&e, "@0", &f);
	assert_int_equal(f.last.vms, 1u << 0);
	feed(&e, "@19", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
}

static void
test_viewer(void **state)
{
	struct con_esc e;
	struct fed f;

	(void)state;
	con_esc_init(&e, 2, names2, 1);
	feed(&e, "id\r", &f);
	assert_string_equal(f.sent[1], "id\r");
	feed(&e, "@0", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
	feed(&e, "@m", &f);
	assert_int_equal(f.last.kind, CON_ACT_ERROR);
	feed(&e, "@q", &f);
	assert_int_equal(f.last.kind, CON_ACT_DETACH);
	feed(&e, "@@", &f);
	assert_string_equal(f.sent[1], "@");
	assert_int_equal(f.nsent[0], 0);
}

/* ---- screen ------------------------------------------------------------ */

static char *
sink_take(struct con_sink *s)
{
	static char buf[8192];
	size_t n = s->len < sizeof(buf) - 1 ? s->len : sizeof(buf) - 1;

	memcpy(buf, s->p, n);
	buf[n] = '\0';
	s->len = 0;
	return buf;
}

static void
out(struct con_screen *s, unsigned vm, const char *str, uint64_t t,
    struct con_sink *k)
{
	con_screen_output(s, vm, (const uint8_t *)str, strlen(str), t, k);
}

static void
test_colour_lines(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };

	(void)state;
	con_screen_init(&s, 2, names2, false, false, "\r\n");
	out(&s, 0, "hello\r\n", 0, &k);
	assert_string_equal(sink_take(&k), "\033[32mhello\033[0m\r\n");
	out(&s, 1, "world\r\n", 0, &k);
	assert_string_equal(sink_take(&k), "\033[33mworld\033[0m\r\n");
	con_sink_free(&k);
}

static void
test_lines_never_interleave(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };

	(void)state;
	con_screen_init(&s, 2, names2, true, false, "\n");
	out(&s, 0, "abc", 0, &k);
	assert_int_equal(k.len, 0);		/* held: no newline yet */
	out(&s, 1, "xyz\n", 100, &k);
	assert_string_equal(sink_take(&k), "[vm1] xyz\n");
	out(&s, 0, "def\n", 200, &k);
	assert_string_equal(sink_take(&k), "[vm0] abcdef\n");

	/* A quiet partial line (a prompt) is shown after 500 ms... */
	out(&s, 0, "vm0 login: ", 1000, &k);
	assert_int_equal(con_screen_tick(&s, 1499, &k), 1500);
	assert_int_equal(k.len, 0);
	assert_int_equal(con_screen_tick(&s, 1500, &k), UINT64_MAX);
	assert_string_equal(sink_take(&k), "[vm0] vm0 login: ");
	/* ...continued without a second prefix... */
	out(&s, 0, "ro", 1600, &k);
	con_screen_tick(&s, 2100, &k);
	assert_string_equal(sink_take(&k), "ro");
	/* ...and another VM's line starts on a line of its own. */
	out(&s, 1, "boot\n", 2200, &k);
	assert_string_equal(sink_take(&k), "\n[vm1] boot\n");
	con_screen_message(&s, "Switching input to 1 (vm1)", &k);
	assert_string_equal(sink_take(&k), "[isles] Switching input to 1 (vm1)\n");
	con_sink_free(&k);
}

static void
test_colour_partial_lines_continue(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };

	(void)state;
	con_screen_init(&s, 2, names2, false, false, "\r\n");
	out(&s, 0, "vm0 login: ", 0, &k);
	con_screen_tick(&s, 500, &k);
	assert_string_equal(sink_take(&k), "\033[32mvm0 login: ");
	out(&s, 0, "root\r\n", 600, &k);
	assert_string_equal(sink_take(&k), "root\033[0m\r\n");
	/* Another VM draws while vm0's partial line is open: colour off, new
	 * line first. */
	out(&s, 0, "Password: ", 700, &k);
	con_screen_tick(&s, 1200, &k);
	out(&s, 1, "x\n", 1300, &k);
	assert_string_equal(sink_take(&k), "\033[32mPassword: \033[0m\r\n"
	    "\033[33mx\033[0m\r\n");
	con_sink_free(&k);
}

static void
test_eager_vm_echoes_at_once(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };

	(void)state;
	con_screen_init(&s, 2, names2, true, false, "\n");
	con_screen_eager(&s, 1u << 1);
	out(&s, 1, "h", 0, &k);
	assert_string_equal(sink_take(&k), "[vm1] h");
	out(&s, 1, "ost", 10, &k);
	assert_string_equal(sink_take(&k), "ost");
	out(&s, 0, "held", 20, &k);		/* not eager: waits */
	assert_int_equal(k.len, 0);
	out(&s, 1, "\n", 30, &k);
	assert_string_equal(sink_take(&k), "\n");
	con_sink_free(&k);
}

static void
test_eager_line_redrawn_after_interruption(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };

	(void)state;
	con_screen_init(&s, 2, names2, true, false, "\n");
	con_screen_eager(&s, 1u << 1);
	out(&s, 1, "# ec", 0, &k);
	assert_string_equal(sink_take(&k), "[vm1] # ec");
	/* vm0 prints lines: each goes on a line of its own; once vm0 pauses
	 * the line being typed is drawn again, whole, below them. */
	out(&s, 0, "y\n", 10, &k);
	out(&s, 0, "y\n", 20, &k);
	assert_string_equal(sink_take(&k), "\n[vm0] y\n[vm0] y\n");
	assert_int_equal(con_screen_tick(&s, 119, &k), 120);
	assert_int_equal(k.len, 0);
	assert_int_equal(con_screen_tick(&s, 120, &k), UINT64_MAX);
	assert_string_equal(sink_take(&k), "[vm1] # ec");
	out(&s, 1, "ho\n", 130, &k);
	assert_string_equal(sink_take(&k), "ho\n");
	/* Typing (the guest's echo) redraws it at once, too. */
	out(&s, 1, "# l", 200, &k);
	out(&s, 0, "y\n", 210, &k);
	out(&s, 1, "s", 220, &k);
	assert_string_equal(sink_take(&k), "[vm1] # l\n[vm0] y\n[vm1] # ls");
	out(&s, 1, "\n", 230, &k);
	sink_take(&k);
	/* And after a message of Isles'. */
	out(&s, 1, "# ", 300, &k);
	con_screen_message(&s, "hello", &k);
	assert_string_equal(sink_take(&k), "[vm1] # \n[isles] hello\n[vm1] # ");
	con_sink_free(&k);
}

static void
test_full_buffer_flushes(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };
	char big[CON_LINE_MAX + 11];

	(void)state;
	con_screen_init(&s, 2, names2, true, false, "\n");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	out(&s, 0, big, 0, &k);
	/* The first CON_LINE_MAX bytes are out at once, the rest waits. */
	assert_int_equal(k.len, strlen("[vm0] ") + CON_LINE_MAX);
	con_sink_free(&k);
}

static void
test_sanitize(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };

	(void)state;
	con_screen_init(&s, 2, names2, true, false, "\n");
	out(&s, 0, "\033[1;31mred\033[0m \033]0;pwned\007ok\033P+q\033\\!\n", 0, &k);
	assert_string_equal(sink_take(&k), "[vm0] red ok!\n");
	/* A sequence split across chunks, a bell, a C1 CSI in UTF-8. */
	out(&s, 1, "a\033[", 0, &k);
	out(&s, 1, "2Jb\007c\xc2\x9b" "31md\xc2\xa9\n", 0, &k);
	assert_string_equal(sink_take(&k), "[vm1] abc31md\xc2\xa9\n");
	/* Out-of-range VM numbers from the socket are ignored. */
	out(&s, 5, "x\n", 0, &k);
	assert_int_equal(k.len, 0);
	con_sink_free(&k);
}

static void
test_viewer_raw(void **state)
{
	struct con_screen s;
	struct con_sink k = { 0 };

	(void)state;
	con_screen_init(&s, 2, names2, false, true, "\r\n");
	out(&s, 1, "\033[2Jtop", 0, &k);
	assert_string_equal(sink_take(&k), "\033[2Jtop");
	assert_int_equal(con_screen_tick(&s, 10000, &k), UINT64_MAX);
	con_sink_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_to_first_vm),
		cmocka_unit_test(test_switch_by_number),
		cmocka_unit_test(test_at_only_at_line_start),
		cmocka_unit_test(test_double_at_sends_one),
		cmocka_unit_test(test_multi),
		cmocka_unit_test(test_help_quit_detach),
		cmocka_unit_test(test_unknown_refused),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_many_vms),
		cmocka_unit_test(test_viewer),
		cmocka_unit_test(test_colour_lines),
		cmocka_unit_test(test_lines_never_interleave),
		cmocka_unit_test(test_colour_partial_lines_continue),
		cmocka_unit_test(test_eager_vm_echoes_at_once),
		cmocka_unit_test(test_eager_line_redrawn_after_interruption),
		cmocka_unit_test(test_full_buffer_flushes),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_viewer_raw),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
