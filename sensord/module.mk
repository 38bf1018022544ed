# sensord/: the chip drivers and their manager as a library (the daemon's
# main.c and the sensortap client are added by their own owner).
LIBS += sensord_core
sensord_core_SRCS := $(filter-out sensord/main.c sensord/sensortap.c,$(sort $(wildcard sensord/*.c)))
