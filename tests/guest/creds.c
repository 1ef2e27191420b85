// SPDX-License-Identifier: GPL-2.0
/*
 * Credentials after restart.  Two images, each made by a self checkpoint
 * and by an external checkpoint of a stopped target:
 *
 * - "user": uids 1000/1001/1002, gids 1000/1003/1004, groups 5, 7, 1000,
 *   no capabilities.  Restarted by a caller with exactly those ids, it
 *   gets them back; by another user (uid 1005, with the same gids and
 *   groups), restart fails with EPERM and the caller is intact; by root, it gets the saved ids and groups
 *   and no capabilities.
 * - "caps": uid/gid 1000 keeping CAP_NET_BIND_SERVICE, CAP_NET_RAW and
 *   CAP_KILL permitted (PR_SET_KEEPCAPS), CAP_NET_BIND_SERVICE effective,
 *   CAP_NET_RAW inheritable and ambient, CAP_SYS_MODULE dropped from the
 *   bounding set.  Restarted by root, every set and the securebits are as
 *   saved; by uid 1000 without capabilities, EPERM, caller intact.
 *
 * A restored task exits with the number of the first check that failed
 * (0: all hold); a caller whose restart fails exits REFUSED_AS_EXPECTED
 * for the expected errno with its own ids unchanged, 150 otherwise, so a
 * restart that should have been refused and was not fails its case even
 * though the restored task's checks hold.
 */
#define _GNU_SOURCE
#include "target.h"

#include <arpa/inet.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#define IMG_USER "/tmp/creds-user.img"
#define IMG_CAPS "/tmp/creds-caps.img"

#define CAP_BIT(c) (1ULL << (c))
#define CAPS_PERMITTED \
	(CAP_BIT(CAP_NET_BIND_SERVICE) | CAP_BIT(CAP_NET_RAW) | CAP_BIT(CAP_KILL))
#define CAPS_EFFECTIVE CAP_BIT(CAP_NET_BIND_SERVICE)
#define CAPS_INHERITABLE CAP_BIT(CAP_NET_RAW)

static const gid_t user_groups[] = { 5, 7, 1000 };

struct caps {
	unsigned long long effective, permitted, inheritable;
};

static int get_caps(struct caps *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(__NR_capget, &hdr, d))
		return -1;
	c->effective = d[0].effective | (unsigned long long)d[1].effective << 32;
	c->permitted = d[0].permitted | (unsigned long long)d[1].permitted << 32;
	c->inheritable = d[0].inheritable |
			 (unsigned long long)d[1].inheritable << 32;
	return 0;
}

static int set_caps(const struct caps *c)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {
		{ (__u32)c->effective, (__u32)c->permitted,
		  (__u32)c->inheritable },
		{ (__u32)(c->effective >> 32), (__u32)(c->permitted >> 32),
		  (__u32)(c->inheritable >> 32) },
	};

	return syscall(__NR_capset, &hdr, d);
}

/* The setups of saved tasks: restored by other users too. */
static int become_saved_user(void)
{
	return output_for_every_user() || setgroups(3, user_groups) || setresgid(1000, 1003, 1004) ||
	       setresuid(1000, 1001, 1002);
}

/* Another user with the saved user's groups: only the uids differ. */
static int become_other_user(void)
{
	return setgroups(3, user_groups) || setresgid(1000, 1003, 1004) ||
	       setresuid(1005, 1005, 1005);
}

static int become_plain_user(void)
{
	gid_t g = 5;

	return setgroups(1, &g) || setresgid(1000, 1000, 1000) ||
	       setresuid(1000, 1000, 1000);
}

static int become_capable_user(void)
{
	struct caps c = { CAPS_EFFECTIVE, CAPS_PERMITTED, CAPS_INHERITABLE };

	if (output_for_every_user() ||
	    prctl(PR_CAPBSET_DROP, CAP_SYS_MODULE, 0, 0, 0) ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) || become_plain_user() ||
	    set_caps(&c))
		return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0);
}

static int check_saved_user(void)
{
	gid_t groups[8];
	uid_t r, e, s;
	gid_t gr, ge, gs;
	struct caps c;
	int n;

	if (getresuid(&r, &e, &s) || r != 1000 || e != 1001 || s != 1002)
		return 1;
	if (getresgid(&gr, &ge, &gs) || gr != 1000 || ge != 1003 || gs != 1004)
		return 2;
	/* With an invalid id, setfsuid() only returns the current one. */
	if (setfsuid(-1) != 1001 || setfsgid(-1) != 1003)
		return 3;
	n = getgroups(8, groups);
	if (n != 3 || groups[0] != 5 || groups[1] != 7 || groups[2] != 1000)
		return 4;
	if (get_caps(&c) || c.effective || c.permitted || c.inheritable)
		return 5;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0))
		return 6;
	return 0;
}

static int bind_port_80(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(80) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&a, sizeof(a));

	if (fd >= 0)
		close(fd);
	return r;
}

static int check_capable_user(void)
{
	uid_t r, e, s;
	gid_t g;
	struct caps c;

	if (getresuid(&r, &e, &s) || r != 1000 || e != 1000 || s != 1000)
		return 1;
	if (getgroups(1, &g) != 1 || g != 5)
		return 2;
	if (get_caps(&c) || c.effective != CAPS_EFFECTIVE ||
	    c.permitted != CAPS_PERMITTED || c.inheritable != CAPS_INHERITABLE)
		return 3;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) != 1 ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) != 0)
		return 4;
	if (prctl(PR_CAPBSET_READ, CAP_SYS_MODULE, 0, 0, 0) != 0 ||
	    prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 1)
		return 5;
	if (prctl(PR_GET_SECUREBITS, 0, 0, 0, 0) != SECBIT_KEEP_CAPS)
		return 6;
	/* The effective capability works: a port below 1024 can be bound. */
	if (bind_port_80())
		return 7;
	return 0;
}

static void restart_case(const char *name, int image_status, const char *img,
			 int (*become)(void), int want_errno)
{
	int status = image_status ? -1 : restart_after(img, become, want_errno);

	ktap_case(!image_status && restart_outcome_ok(status, want_errno), name,
		  "saver status %#x, restart status %#x", image_status, status);
}

int main(void)
{
	int image_status;

	ktap_begin("creds", 10);
	fflush(stdout);
	image_status = make_self_image(IMG_USER, become_saved_user, check_saved_user);
	restart_case("self_user_image_by_same_user_ids_exact", image_status, IMG_USER,
		     become_saved_user, 0);
	restart_case("self_user_image_by_other_user_eperm_caller_intact", image_status,
		     IMG_USER, become_other_user, EPERM);
	restart_case("self_user_image_by_root_ids_as_saved", image_status, IMG_USER,
		     NULL, 0);

	image_status = make_external_image(IMG_USER, become_saved_user, check_saved_user);
	restart_case("external_user_image_by_same_user_ids_exact", image_status,
		     IMG_USER, become_saved_user, 0);
	restart_case("external_user_image_by_other_user_eperm", image_status, IMG_USER,
		     become_other_user, EPERM);
	restart_case("external_user_image_by_root_ids_as_saved", image_status,
		     IMG_USER, NULL, 0);

	image_status = make_self_image(IMG_CAPS, become_capable_user, check_capable_user);
	restart_case("self_caps_image_by_root_caps_as_saved", image_status, IMG_CAPS,
		     NULL, 0);
	restart_case("self_caps_image_by_plain_user_eperm_caller_intact", image_status,
		     IMG_CAPS, become_plain_user, EPERM);

	image_status = make_external_image(IMG_CAPS, become_capable_user, check_capable_user);
	restart_case("external_caps_image_by_root_caps_as_saved", image_status,
		     IMG_CAPS, NULL, 0);
	restart_case("external_caps_image_by_plain_user_eperm", image_status, IMG_CAPS,
		     become_plain_user, EPERM);
	return ktap_end();
}
