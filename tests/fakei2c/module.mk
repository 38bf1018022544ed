# tests/fakei2c/: byte-level chip models (libfakebus.a, for the driver unit
# tests; see README.md).
fakebus_SRCS := tests/fakei2c/fakebus.c tests/fakei2c/scd4x.c \
	tests/fakei2c/sgp30.c tests/fakei2c/icp10125.c
LIBS += fakebus
