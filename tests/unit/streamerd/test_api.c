/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: every answer variant docs/snowpipe.md lists is parsed (plain/JSON hostname
 * and token, open, append, bulk status with rows_errors fallback, absent
 * channel), malformed answers are refused, URLs percent-encode names and
 * tokens, and the HTTP status + code -> reaction table of docs/snowpipe.md §5.2.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"

#define S(x) x, strlen(x)

static void
test_hostname(void **state)
{
	char h[API_HOST_MAX];

	(void)state;
	assert_int_equal(api_parse_hostname(S("  My_Acct.us-east-1.INGEST.snowflakecomputing.com\n"), h), 0);
	assert_string_equal(h, "my-acct.us-east-1.ingest.snowflakecomputing.com");
	assert_int_equal(api_parse_hostname(S("{\"hostname\":\"https://a_b.example:8443/\"}"), h), 0);
	assert_string_equal(h, "a-b.example:8443");
	assert_int_equal(api_parse_hostname(S("\"127.0.0.1:9443\""), h), 0);
	assert_string_equal(h, "127.0.0.1:9443");
	assert_int_equal(api_parse_hostname(S(""), h), -EBADMSG);
	assert_int_equal(api_parse_hostname(S("{\"host\":\"x\"}"), h), -EBADMSG);
	assert_int_equal(api_parse_hostname(S("SNOWFLAKE.ingest..snowflakecomputing.com"), h), -EBADMSG);
	assert_int_equal(api_parse_hostname(S("evil.com/path?x"), h), -EBADMSG);
	assert_int_equal(api_parse_hostname(S("a b"), h), -EBADMSG);
	assert_int_equal(api_parse_hostname(S("<html>"), h), -EBADMSG);
	assert_int_equal(api_parse_hostname(S("{\"hostname\":12}"), h), -EBADMSG);
}

static void
test_token(void **state)
{
	char *t = NULL;

	(void)state;
	assert_int_equal(api_parse_token(S("eyJhbGciOi.eyJleHAiOjF9.c2ln\n"), &t), 0);
	assert_string_equal(t, "eyJhbGciOi.eyJleHAiOjF9.c2ln");
	free(t);
	assert_int_equal(api_parse_token(S("{\"token\":\"abc\"}"), &t), 0);
	assert_string_equal(t, "abc");
	free(t);
	assert_int_equal(api_parse_token(S("{\"access_token\":\"xyz\",\"expires_in\":3600}"), &t), 0);
	assert_string_equal(t, "xyz");
	free(t);
	assert_int_equal(api_parse_token(S("\"q.r.s\""), &t), 0);
	assert_string_equal(t, "q.r.s");
	free(t);
	t = NULL;
	assert_int_equal(api_parse_token(S("two words"), &t), -EBADMSG);
	assert_int_equal(api_parse_token(S("{\"token\":null}"), &t), -EBADMSG);
	assert_int_equal(api_parse_token(S("   "), &t), -EBADMSG);
	assert_null(t);
}

static const char open_ok[] =
	"{\"next_continuation_token\":\"0_1\",\"channel_status\":{\"database_name\":\"D\","
	"\"channel_status_code\":\"SUCCESS\",\"last_committed_offset_token\":null,"
	"\"rows_inserted\":0,\"rows_error_count\":\"3\",\"last_error_message\":null,"
	"\"last_error_timestamp\":null,\"created_on_ms\":1767225600000}}";

static void
test_open(void **state)
{
	struct api_chstatus st;
	char *cont = NULL;

	(void)state;
	assert_int_equal(api_parse_open(S(open_ok), &cont, &st), 0);
	assert_string_equal(cont, "0_1");
	assert_string_equal(st.database_name, "D");
	assert_string_equal(st.channel_name, "");	/* not reported */
	assert_string_equal(st.code, "SUCCESS");
	assert_false(st.has_committed);
	assert_true(st.has_errors);
	assert_int_equal(st.rows_error_count, 3);
	assert_true(api_status_usable(st.code));
	free(cont);
	cont = NULL;
	assert_int_equal(api_parse_open(S("{\"next_continuation_token\":\"0_1\"}"), &cont, &st),
	    -EBADMSG);
	assert_int_equal(api_parse_open(S("{\"next_continuation_token\":5,\"channel_status\":"
	    "{\"channel_status_code\":\"SUCCESS\"}}"), &cont, &st), -EBADMSG);
	/* the committed token must be said (null for none) */
	assert_int_equal(api_parse_open(S("{\"next_continuation_token\":\"x\",\"channel_status\":"
	    "{\"channel_status_code\":\"SUCCESS\"}}"), &cont, &st), -EBADMSG);
	assert_int_equal(api_parse_open(S("{\"next_continuation_token\":\"x\",\"channel_status\":"
	    "{\"last_committed_offset_token\":{}}}"), &cont, &st), -EBADMSG);
	assert_int_equal(api_parse_open(S("[]"), &cont, &st), -EBADMSG);
	assert_null(cont);
}

static void
test_append(void **state)
{
	char *cont = NULL;

	(void)state;
	assert_int_equal(api_parse_append(S("{\"next_continuation_token\":\"0_2\"}"), &cont), 0);
	assert_string_equal(cont, "0_2");
	free(cont);
	assert_int_equal(api_parse_append(S("{\"next_continuation_token\":\"0_3\",\"status_code\":0}"),
	    &cont), 0);
	free(cont);
	cont = NULL;
	assert_int_equal(api_parse_append(S("{\"next_continuation_token\":\"0_3\",\"status_code\":7}"),
	    &cont), -EBADMSG);
	assert_int_equal(api_parse_append(S("{\"next_continuation_token\":\"\"}"), &cont), -EBADMSG);
	assert_int_equal(api_parse_append(S("{}"), &cont), -EBADMSG);
	assert_int_equal(api_parse_append(S("not json"), &cont), -EBADMSG);
	assert_null(cont);
}

static void
test_status(void **state)
{
	struct api_chstatus st;
	bool found = false;

	(void)state;
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":{\"pi-7\":{"
	    "\"channel_status_code\":\"SUCCESS\",\"last_committed_offset_token\":"
	    "\"0000000000000001-00000000000000000009\",\"rows_errors\":2,"
	    "\"last_error_message\":\"bad row\"}}}"), "pi-7", &st, &found), 0);
	assert_true(found);
	assert_true(st.has_committed);
	assert_string_equal(st.committed, "0000000000000001-00000000000000000009");
	assert_int_equal(st.rows_error_count, 2);
	assert_string_equal(st.last_error, "bad row");
	/* names are case-sensitive there, but the service stores an unquoted
	 * name upper-cased: the exact name first, else any case */
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":{\"PI-7\":{"
	    "\"channel_status_code\":\"SUCCESS\",\"last_committed_offset_token\":\"u\"}}}"),
	    "pi-7", &st, &found), 0);
	assert_true(found);
	assert_string_equal(st.committed, "u");
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":{\"PI-7\":{"
	    "\"last_committed_offset_token\":\"u\"},\"pi-7\":{\"last_committed_offset_token\":"
	    "\"l\"}}}"), "pi-7", &st, &found), 0);
	assert_string_equal(st.committed, "l");
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":{\"PI-8\":{}}}"), "pi-7", &st,
	    &found), 0);
	assert_false(found);
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":{}}"), "pi-7", &st, &found), 0);
	assert_false(found);
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":[]}"), "pi-7", &st, &found),
	    -EBADMSG);
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":{\"pi-7\":{"
	    "\"last_committed_offset_token\":[7]}}}"), "pi-7", &st, &found), -EBADMSG);
	/* an integer token is its decimal text; no status code is "none reported" */
	assert_int_equal(api_parse_status(S("{\"channel_statuses\":{\"pi-7\":{"
	    "\"last_committed_offset_token\":7}}}"), "pi-7", &st, &found), 0);
	assert_true(found && st.has_committed);
	assert_string_equal(st.committed, "7");
	assert_string_equal(st.code, "");
	assert_true(api_status_usable(st.code));
}

/* Optional fields never cost the answer: free text of any length is cut
 * (at a character boundary, control characters as spaces), counters of an
 * unexpected type are "not reported". */
static void
test_optional_fields(void **state)
{
	struct api_chstatus st;
	char *cont = NULL, *body, *p;
	size_t cap = 8192;

	(void)state;
	assert_non_null(body = malloc(cap));
	p = body + snprintf(body, cap, "{\"next_continuation_token\":\"0_1\",\"channel_status\":{"
	    "\"channel_status_code\":\"SUCCESS\",\"last_committed_offset_token\":\"t-1\","
	    "\"rows_error_count\":\"many\",\"rows_inserted\":1.5,\"last_error_message\":\"");
	for (int i = 0; i < 1000; i++)
		p += snprintf(p, 8, "\\u00e9");	/* é: two bytes in UTF-8 */
	snprintf(p, 64, "\\n\",\"last_error_timestamp\":{\"odd\":1}}}");
	assert_int_equal(api_parse_open(body, strlen(body), &cont, &st), 0);
	assert_string_equal(cont, "0_1");
	assert_string_equal(st.committed, "t-1");
	assert_false(st.has_errors);
	assert_int_equal(st.rows_inserted, -1);
	assert_int_equal(strlen(st.last_error), 254);	/* 127 whole characters */
	assert_int_equal((unsigned char)st.last_error[252], 0xc3);
	free(cont);
	free(body);
}

static void
test_error_codes(void **state)
{
	char c[64];

	(void)state;
	api_error_code(S("{\"code\":\"STALE_CONTINUATION_TOKEN_SEQUENCER\",\"message\":\"m\"}"), c,
	    sizeof(c));
	assert_string_equal(c, "STALE_CONTINUATION_TOKEN_SEQUENCER");
	api_error_code(S("{\"error_code\":\"ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED\"}"), c, sizeof(c));
	assert_string_equal(c, "ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED");
	api_error_code(S("{\"error\":\"ERR_PIPE_KIND_NOT_SUPPORTED\"}"), c, sizeof(c));
	assert_string_equal(c, "ERR_PIPE_KIND_NOT_SUPPORTED");
	api_error_code(S("\"ERR_GENERAL_EXCEPTION_RETRY_REQUEST\""), c, sizeof(c));
	assert_string_equal(c, "ERR_GENERAL_EXCEPTION_RETRY_REQUEST");
	api_error_code(S("{\"code\":\"390144\",\"message\":\"JWT token is invalid.\"}"), c, sizeof(c));
	assert_string_equal(c, "390144");
	api_error_code(S("<html>502</html>"), c, sizeof(c));
	assert_string_equal(c, "");
	api_error_code(NULL, 0, c, sizeof(c));
	assert_string_equal(c, "");
}

static void
test_classify(void **state)
{
	(void)state;
	assert_int_equal(api_classify(200, ""), API_OK);
	assert_int_equal(api_classify(0, ""), API_RETRY);
	assert_int_equal(api_classify(408, ""), API_RETRY);
	assert_int_equal(api_classify(429, ""), API_RETRY);
	assert_int_equal(api_classify(499, ""), API_RETRY);
	assert_int_equal(api_classify(503, "ERR_GENERAL_EXCEPTION_RETRY_REQUEST"), API_RETRY);
	assert_int_equal(api_classify(500, ""), API_RETRY);
	assert_int_equal(api_classify(401, "390144"), API_AUTH);
	assert_int_equal(api_classify(403, ""), API_FORBIDDEN);
	assert_int_equal(api_classify(400, "STALE_CONTINUATION_TOKEN_SEQUENCER"), API_REOPEN);
	assert_int_equal(api_classify(400, "ERR_CHANNEL_HAS_INVALID_ROW_SEQUENCER"), API_REOPEN);
	assert_int_equal(api_classify(400, "ERR_CHANNEL_MUST_BE_REOPENED"), API_REOPEN);
	assert_int_equal(api_classify(404, "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED"), API_REOPEN);
	assert_int_equal(api_classify(409, ""), API_REOPEN);
	assert_int_equal(api_classify(409, "ERR_OPEN_CHANNEL_IN_PROGRESS"), API_RETRY);
	assert_int_equal(api_classify(409, "ERR_PIPE_IN_INVALID_STATE"), API_BAD);
	assert_int_equal(api_classify(404, "ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED"), API_MISSING);
	assert_int_equal(api_classify(404, "ERR_TABLE_DOES_NOT_EXIST_NOT_AUTHORIZED"), API_MISSING);
	assert_int_equal(api_classify(404, ""), API_MISSING);
	assert_int_equal(api_classify(400, "ERR_SOMETHING"), API_BAD);
	assert_int_equal(api_classify(413, ""), API_BAD);
	assert_false(api_status_usable("ERR_CHANNEL_MUST_BE_REOPENED"));
	assert_true(api_status_usable("ACTIVE"));
}

static void
test_urls(void **state)
{
	char url[API_URL_MAX], small[40];
	char *body = NULL;

	(void)state;
	assert_int_equal(api_url_channel(url, sizeof(url), "https://h:1", "DB", "SC",
	    "T-STREAMING", "my chan/1", "rid"), 0);
	assert_string_equal(url, "https://h:1/v2/streaming/databases/DB/schemas/SC/pipes/"
	    "T-STREAMING/channels/my%20chan%2F1?requestId=rid");
	assert_int_equal(api_url_append(url, sizeof(url), "https://h", "D", "S", "\"Mixed\"", "c",
	    "a&b", "x=y", "0_1 +", "r"), 0);
	assert_string_equal(url, "https://h/v2/streaming/data/databases/D/schemas/S/pipes/"
	    "%22Mixed%22/channels/c/rows?startOffsetToken=a%26b&endOffsetToken=x%3Dy"
	    "&continuationToken=0_1%20%2B&requestId=r");
	assert_int_equal(api_url_status(url, sizeof(url), "https://h", "D", "S", "P", NULL), 0);
	assert_string_equal(url, "https://h/v2/streaming/databases/D/schemas/S/pipes/P"
	    ":bulk-channel-status");
	assert_int_equal(api_url_status(url, sizeof(url), "https://h", "D", "S", "P", "r-1"), 0);
	assert_string_equal(url, "https://h/v2/streaming/databases/D/schemas/S/pipes/P"
	    ":bulk-channel-status?requestId=r-1");
	assert_int_equal(api_url_status(small, sizeof(small), "https://h", "D", "S", "P", NULL),
	    -ENOSPC);
	assert_int_equal(api_body_status((const char *[]){ "pi \"7\"" }, 1, &body), 0);
	assert_string_equal(body, "{\"channel_names\":[\"pi \\\"7\\\"\"]}");
	free(body);
	assert_int_equal(api_body_status((const char *[]){ "pi-7", "PI-7" }, 2, &body), 0);
	assert_string_equal(body, "{\"channel_names\":[\"pi-7\",\"PI-7\"]}");
	free(body);
	assert_int_equal(api_body_token(0, "h.example session:role:R", NULL, &body), 0);
	assert_string_equal(body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer"
	    "&scope=h.example%20session%3Arole%3AR");
	free(body);
	assert_int_equal(api_body_token(1, "h", "p+t", &body), 0);
	assert_non_null(strstr(body, "token-exchange"));
	assert_non_null(strstr(body, "subject_token=p%2Bt"));
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_optional_fields),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
