# Toolchain file: build for another Debian architecture with Debian's cross
# compiler and that architecture's multiarch -dev packages.
#   MQTTTY_CROSS=aarch64-linux-gnu cmake -S . -B build-arm64 \
#       -DCMAKE_TOOLCHAIN_FILE=cmake/cross-linux.cmake
# MQTTTY_CROSS (environment, so that CMake's own test projects see it too):
# aarch64-linux-gnu (arm64, Raspberry Pi OS 64-bit) or arm-linux-gnueabihf
# (armhf, Raspberry Pi OS 32-bit). Unit tests run through qemu-user
# (qemu-user-static). tests/fresh/cross.sh does all of it in a fresh root.
set(_triplet "$ENV{MQTTTY_CROSS}")
if(_triplet STREQUAL "aarch64-linux-gnu")
  set(CMAKE_SYSTEM_PROCESSOR aarch64)
  set(MQTTTY_DEB_ARCH arm64)
  set(_qemu qemu-aarch64-static)
elseif(_triplet STREQUAL "arm-linux-gnueabihf")
  set(CMAKE_SYSTEM_PROCESSOR arm)
  set(MQTTTY_DEB_ARCH armhf)
  set(_qemu qemu-arm-static)
else()
  message(FATAL_ERROR "set MQTTTY_CROSS to aarch64-linux-gnu or arm-linux-gnueabihf")
endif()
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${_triplet}-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE ${_triplet})
# the target's .pc files only, never the build machine's
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${_triplet}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# the dynamic loader and libraries of the target live in the same root
# (multiarch), so qemu-user finds them by their usual paths
set(CMAKE_CROSSCOMPILING_EMULATOR ${_qemu})
