/* ProcessPrng for Wine 8, which lacks bcryptprimitives.dll: Rust's standard library (1.78 and
 * later) takes its randomness from it, so neither the SDK's Windows addon nor codex.exe loads
 * without it. Built with mingw-w64 into the proof's Wine prefix only (scripts/prove-windows.sh);
 * real Windows has the DLL, and nothing here ships. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom, in advapi32 */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length) {
  while (length > 0) {
    ULONG n = length > 0x7fffffff ? 0x7fffffff : (ULONG)length;
    if (!SystemFunction036(data, n)) return FALSE;
    data += n;
    length -= n;
  }
  return TRUE;
}
