# SPDX-License-Identifier: BSD-2-Clause
# isles-webd: the running system in a browser (docs/web.md), started by
# `isles web`.  HTTP and WebSocket on Debian's libwebsockets; libwebmsg
# holds the pure parts (page <-> server framing, the bounded per-client
# queue, the access checks) that tests/unit/test_webmsg.c drives.
# The page (web/) and the front-end libraries from the npm registry
# (web/package-lock.json, `npm ci`) are copied into $(BUILD)/web, which
# isles-webd serves from beside itself.
LIBS += webmsg
webmsg_SRCS := src/webd/webmsg.c
PROGS += isles-webd
isles-webd_SRCS := src/webd/webd.c src/webd/status.c
isles-webd_LIBA := webmsg
isles-webd_LDLIBS := -lwebsockets -lseccomp

# The rules below are the first in the tree: keep `all` the default goal.
.DEFAULT_GOAL := all

WEB_PAGE := index.html app.js app.css
WEB_NPM := @xterm/xterm/lib/xterm.js @xterm/xterm/css/xterm.css \
	@xterm/addon-fit/lib/addon-fit.js
WEB_ASSETS := $(addprefix $(BUILD)/web/,$(WEB_PAGE) $(notdir $(WEB_NPM)))

# npm ci installs exactly the lock file's versions (no network once done).
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(addprefix $(BUILD)/web/,$(WEB_PAGE)): $(BUILD)/web/%: web/%
	@mkdir -p $(@D)
	cp $< $@

$(foreach f,$(WEB_NPM),$(eval $(BUILD)/web/$(notdir $(f)): web/node_modules/.package-lock.json ; @mkdir -p $$(@D) && cp web/node_modules/$(f) $$@))

# Built with the daemon (the Makefile builds every program).
$(BUILD)/isles-webd: | $(WEB_ASSETS)
