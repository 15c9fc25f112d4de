// AVX2+FMA activation kernels (see activations.go for the formulas and their accuracy):
// SigmoidF32 and TanhF32 over a slice, 8 lanes at a time, the last n%8 elements with masked
// loads and stores. Hand-written; amd64 only.

#include "textflag.h"

// actConst<>: 32-byte vectors of 8 equal lanes, one per constant (offsets below).
#define c_sign 0 // sign bit
#define c_abs 32 // all but the sign bit
#define c_one 64 // 1
#define c_minA 96 // -87.33655
#define c_log2e 128 // 1.442695
#define c_c1 160 // 0.6933594
#define c_c2 192 // -0.00021219444
#define c_p0 224 // 0.00019875691
#define c_p1 256 // 0.0013981999
#define c_p2 288 // 0.008333452
#define c_p3 320 // 0.041665796
#define c_p4 352 // 0.16666666
#define c_p5 384 // 0.5
#define c_bias 416 // exponent bias (int32)
#define c_small 448 // 0.625
#define c_minus2 480 // -2
#define c_t0 512 // -0.0057049887
#define c_t1 544 // 0.020639088
#define c_t2 576 // -0.053739715
#define c_t3 608 // 0.13331442
#define c_t4 640 // -0.3333328
DATA actConst<>+0(SB)/4, $0x80000000
DATA actConst<>+4(SB)/4, $0x80000000
DATA actConst<>+8(SB)/4, $0x80000000
DATA actConst<>+12(SB)/4, $0x80000000
DATA actConst<>+16(SB)/4, $0x80000000
DATA actConst<>+20(SB)/4, $0x80000000
DATA actConst<>+24(SB)/4, $0x80000000
DATA actConst<>+28(SB)/4, $0x80000000
DATA actConst<>+32(SB)/4, $0x7fffffff
DATA actConst<>+36(SB)/4, $0x7fffffff
DATA actConst<>+40(SB)/4, $0x7fffffff
DATA actConst<>+44(SB)/4, $0x7fffffff
DATA actConst<>+48(SB)/4, $0x7fffffff
DATA actConst<>+52(SB)/4, $0x7fffffff
DATA actConst<>+56(SB)/4, $0x7fffffff
DATA actConst<>+60(SB)/4, $0x7fffffff
DATA actConst<>+64(SB)/4, $0x3f800000
DATA actConst<>+68(SB)/4, $0x3f800000
DATA actConst<>+72(SB)/4, $0x3f800000
DATA actConst<>+76(SB)/4, $0x3f800000
DATA actConst<>+80(SB)/4, $0x3f800000
DATA actConst<>+84(SB)/4, $0x3f800000
DATA actConst<>+88(SB)/4, $0x3f800000
DATA actConst<>+92(SB)/4, $0x3f800000
DATA actConst<>+96(SB)/4, $0xc2aeac50
DATA actConst<>+100(SB)/4, $0xc2aeac50
DATA actConst<>+104(SB)/4, $0xc2aeac50
DATA actConst<>+108(SB)/4, $0xc2aeac50
DATA actConst<>+112(SB)/4, $0xc2aeac50
DATA actConst<>+116(SB)/4, $0xc2aeac50
DATA actConst<>+120(SB)/4, $0xc2aeac50
DATA actConst<>+124(SB)/4, $0xc2aeac50
DATA actConst<>+128(SB)/4, $0x3fb8aa3b
DATA actConst<>+132(SB)/4, $0x3fb8aa3b
DATA actConst<>+136(SB)/4, $0x3fb8aa3b
DATA actConst<>+140(SB)/4, $0x3fb8aa3b
DATA actConst<>+144(SB)/4, $0x3fb8aa3b
DATA actConst<>+148(SB)/4, $0x3fb8aa3b
DATA actConst<>+152(SB)/4, $0x3fb8aa3b
DATA actConst<>+156(SB)/4, $0x3fb8aa3b
DATA actConst<>+160(SB)/4, $0x3f318000
DATA actConst<>+164(SB)/4, $0x3f318000
DATA actConst<>+168(SB)/4, $0x3f318000
DATA actConst<>+172(SB)/4, $0x3f318000
DATA actConst<>+176(SB)/4, $0x3f318000
DATA actConst<>+180(SB)/4, $0x3f318000
DATA actConst<>+184(SB)/4, $0x3f318000
DATA actConst<>+188(SB)/4, $0x3f318000
DATA actConst<>+192(SB)/4, $0xb95e8083
DATA actConst<>+196(SB)/4, $0xb95e8083
DATA actConst<>+200(SB)/4, $0xb95e8083
DATA actConst<>+204(SB)/4, $0xb95e8083
DATA actConst<>+208(SB)/4, $0xb95e8083
DATA actConst<>+212(SB)/4, $0xb95e8083
DATA actConst<>+216(SB)/4, $0xb95e8083
DATA actConst<>+220(SB)/4, $0xb95e8083
DATA actConst<>+224(SB)/4, $0x39506967
DATA actConst<>+228(SB)/4, $0x39506967
DATA actConst<>+232(SB)/4, $0x39506967
DATA actConst<>+236(SB)/4, $0x39506967
DATA actConst<>+240(SB)/4, $0x39506967
DATA actConst<>+244(SB)/4, $0x39506967
DATA actConst<>+248(SB)/4, $0x39506967
DATA actConst<>+252(SB)/4, $0x39506967
DATA actConst<>+256(SB)/4, $0x3ab743ce
DATA actConst<>+260(SB)/4, $0x3ab743ce
DATA actConst<>+264(SB)/4, $0x3ab743ce
DATA actConst<>+268(SB)/4, $0x3ab743ce
DATA actConst<>+272(SB)/4, $0x3ab743ce
DATA actConst<>+276(SB)/4, $0x3ab743ce
DATA actConst<>+280(SB)/4, $0x3ab743ce
DATA actConst<>+284(SB)/4, $0x3ab743ce
DATA actConst<>+288(SB)/4, $0x3c088908
DATA actConst<>+292(SB)/4, $0x3c088908
DATA actConst<>+296(SB)/4, $0x3c088908
DATA actConst<>+300(SB)/4, $0x3c088908
DATA actConst<>+304(SB)/4, $0x3c088908
DATA actConst<>+308(SB)/4, $0x3c088908
DATA actConst<>+312(SB)/4, $0x3c088908
DATA actConst<>+316(SB)/4, $0x3c088908
DATA actConst<>+320(SB)/4, $0x3d2aa9c1
DATA actConst<>+324(SB)/4, $0x3d2aa9c1
DATA actConst<>+328(SB)/4, $0x3d2aa9c1
DATA actConst<>+332(SB)/4, $0x3d2aa9c1
DATA actConst<>+336(SB)/4, $0x3d2aa9c1
DATA actConst<>+340(SB)/4, $0x3d2aa9c1
DATA actConst<>+344(SB)/4, $0x3d2aa9c1
DATA actConst<>+348(SB)/4, $0x3d2aa9c1
DATA actConst<>+352(SB)/4, $0x3e2aaaaa
DATA actConst<>+356(SB)/4, $0x3e2aaaaa
DATA actConst<>+360(SB)/4, $0x3e2aaaaa
DATA actConst<>+364(SB)/4, $0x3e2aaaaa
DATA actConst<>+368(SB)/4, $0x3e2aaaaa
DATA actConst<>+372(SB)/4, $0x3e2aaaaa
DATA actConst<>+376(SB)/4, $0x3e2aaaaa
DATA actConst<>+380(SB)/4, $0x3e2aaaaa
DATA actConst<>+384(SB)/4, $0x3f000000
DATA actConst<>+388(SB)/4, $0x3f000000
DATA actConst<>+392(SB)/4, $0x3f000000
DATA actConst<>+396(SB)/4, $0x3f000000
DATA actConst<>+400(SB)/4, $0x3f000000
DATA actConst<>+404(SB)/4, $0x3f000000
DATA actConst<>+408(SB)/4, $0x3f000000
DATA actConst<>+412(SB)/4, $0x3f000000
DATA actConst<>+416(SB)/4, $0x0000007f
DATA actConst<>+420(SB)/4, $0x0000007f
DATA actConst<>+424(SB)/4, $0x0000007f
DATA actConst<>+428(SB)/4, $0x0000007f
DATA actConst<>+432(SB)/4, $0x0000007f
DATA actConst<>+436(SB)/4, $0x0000007f
DATA actConst<>+440(SB)/4, $0x0000007f
DATA actConst<>+444(SB)/4, $0x0000007f
DATA actConst<>+448(SB)/4, $0x3f200000
DATA actConst<>+452(SB)/4, $0x3f200000
DATA actConst<>+456(SB)/4, $0x3f200000
DATA actConst<>+460(SB)/4, $0x3f200000
DATA actConst<>+464(SB)/4, $0x3f200000
DATA actConst<>+468(SB)/4, $0x3f200000
DATA actConst<>+472(SB)/4, $0x3f200000
DATA actConst<>+476(SB)/4, $0x3f200000
DATA actConst<>+480(SB)/4, $0xc0000000
DATA actConst<>+484(SB)/4, $0xc0000000
DATA actConst<>+488(SB)/4, $0xc0000000
DATA actConst<>+492(SB)/4, $0xc0000000
DATA actConst<>+496(SB)/4, $0xc0000000
DATA actConst<>+500(SB)/4, $0xc0000000
DATA actConst<>+504(SB)/4, $0xc0000000
DATA actConst<>+508(SB)/4, $0xc0000000
DATA actConst<>+512(SB)/4, $0xbbbaf0ea
DATA actConst<>+516(SB)/4, $0xbbbaf0ea
DATA actConst<>+520(SB)/4, $0xbbbaf0ea
DATA actConst<>+524(SB)/4, $0xbbbaf0ea
DATA actConst<>+528(SB)/4, $0xbbbaf0ea
DATA actConst<>+532(SB)/4, $0xbbbaf0ea
DATA actConst<>+536(SB)/4, $0xbbbaf0ea
DATA actConst<>+540(SB)/4, $0xbbbaf0ea
DATA actConst<>+544(SB)/4, $0x3ca9134e
DATA actConst<>+548(SB)/4, $0x3ca9134e
DATA actConst<>+552(SB)/4, $0x3ca9134e
DATA actConst<>+556(SB)/4, $0x3ca9134e
DATA actConst<>+560(SB)/4, $0x3ca9134e
DATA actConst<>+564(SB)/4, $0x3ca9134e
DATA actConst<>+568(SB)/4, $0x3ca9134e
DATA actConst<>+572(SB)/4, $0x3ca9134e
DATA actConst<>+576(SB)/4, $0xbd5c1e2d
DATA actConst<>+580(SB)/4, $0xbd5c1e2d
DATA actConst<>+584(SB)/4, $0xbd5c1e2d
DATA actConst<>+588(SB)/4, $0xbd5c1e2d
DATA actConst<>+592(SB)/4, $0xbd5c1e2d
DATA actConst<>+596(SB)/4, $0xbd5c1e2d
DATA actConst<>+600(SB)/4, $0xbd5c1e2d
DATA actConst<>+604(SB)/4, $0xbd5c1e2d
DATA actConst<>+608(SB)/4, $0x3e088393
DATA actConst<>+612(SB)/4, $0x3e088393
DATA actConst<>+616(SB)/4, $0x3e088393
DATA actConst<>+620(SB)/4, $0x3e088393
DATA actConst<>+624(SB)/4, $0x3e088393
DATA actConst<>+628(SB)/4, $0x3e088393
DATA actConst<>+632(SB)/4, $0x3e088393
DATA actConst<>+636(SB)/4, $0x3e088393
DATA actConst<>+640(SB)/4, $0xbeaaaa99
DATA actConst<>+644(SB)/4, $0xbeaaaa99
DATA actConst<>+648(SB)/4, $0xbeaaaa99
DATA actConst<>+652(SB)/4, $0xbeaaaa99
DATA actConst<>+656(SB)/4, $0xbeaaaa99
DATA actConst<>+660(SB)/4, $0xbeaaaa99
DATA actConst<>+664(SB)/4, $0xbeaaaa99
DATA actConst<>+668(SB)/4, $0xbeaaaa99
GLOBL actConst<>(SB), RODATA|NOPTR, $672

// actMask<>: 8 all-ones lanes then 8 zero lanes. The 8 floats at actMask<>+32-4r have their
// first r lanes set: the VMASKMOVPS mask of an r-element tail.
DATA actMask<>+0(SB)/8, $-1
DATA actMask<>+8(SB)/8, $-1
DATA actMask<>+16(SB)/8, $-1
DATA actMask<>+24(SB)/8, $-1
DATA actMask<>+32(SB)/8, $0
DATA actMask<>+40(SB)/8, $0
DATA actMask<>+48(SB)/8, $0
DATA actMask<>+56(SB)/8, $0
GLOBL actMask<>(SB), RODATA|NOPTR, $64

// EXPNEG sets a = exp(a) for lanes a <= 0 (NaN stays NaN; a < ln(2^-126) gives 0), with
// n, t, f, z scratch; Y15 holds 1.0 and Y14 ln(2^-126) in every lane.
//
// f = a < min; a = max(min, a) (a NaN a is kept: VMAXPS returns its second source then);
// n = round(a*log2e); r = a - n*c1 - n*c2; p = P(r) by Horner; y = (r*r*p + r) + 1;
// a = y * 2^n (n+127 shifted into the exponent field), zeroed where f.
#define EXPNEG(a, n, t, f, z) \
	VCMPPS       $1, Y14, a, f \
	VMAXPS       a, Y14, a \
	VMULPS       actConst<>+c_log2e(SB), a, n \
	VROUNDPS     $0, n, n \
	VFNMADD231PS actConst<>+c_c1(SB), n, a \
	VFNMADD231PS actConst<>+c_c2(SB), n, a \
	VMOVUPS      actConst<>+c_p0(SB), t \
	VFMADD213PS  actConst<>+c_p1(SB), a, t \
	VFMADD213PS  actConst<>+c_p2(SB), a, t \
	VFMADD213PS  actConst<>+c_p3(SB), a, t \
	VFMADD213PS  actConst<>+c_p4(SB), a, t \
	VFMADD213PS  actConst<>+c_p5(SB), a, t \
	VMULPS       a, a, z \
	VFMADD213PS  a, z, t \
	VADDPS       Y15, t, t \
	VCVTPS2DQ    n, n \
	VPADDD       actConst<>+c_bias(SB), n, n \
	VPSLLD       $23, n, n \
	VMULPS       n, t, a \
	VANDNPS      a, f, a

// SIGMOID sets y = sigmoid(x): e = exp(-|x|); num = (x < 0 ? e : 1), the choice by x's
// sign bit (-0 gives e = 1, the same); y = num / (1 + e), with the rounding error of 1 + e
// put back: s = 1 + e and c = (1 - s) + e (exact: 1 + e = s + c), q = num / s, then
// y = q + (num - q*s - q*c) * rcp(s), the remainder num - q*s exact with the FMA, rcp's 12
// bits ample for a correction below an ulp of q. Scratch Y1..Y6.
#define SIGMOID(x, y) \
	VORPS        actConst<>+c_sign(SB), x, Y1 \
	EXPNEG(Y1, Y2, Y3, Y4, Y5) \
	VADDPS       Y15, Y1, Y2 \
	VSUBPS       Y2, Y15, Y3 \
	VADDPS       Y1, Y3, Y3 \
	VBLENDVPS    x, Y1, Y15, Y6 \
	VDIVPS       Y2, Y6, Y4 \
	VFNMADD231PS Y2, Y4, Y6 \
	VFNMADD231PS Y3, Y4, Y6 \
	VRCPPS       Y2, Y5 \
	VFMADD231PS  Y5, Y6, Y4 \
	VMOVAPS      Y4, y

// TANH sets y = tanh(x): for |x| < 0.625 x + x*z*P(z) (z = x*x) with x's sign bit (which
// it has already, but for -0), else sign(x) * (1-e)/(1+e) with e = exp(-2|x|). Scratch
// Y1..Y6.
#define TANH(x, y) \
	VANDPS      actConst<>+c_abs(SB), x, Y1 \
	VCMPPS      $1, actConst<>+c_small(SB), Y1, Y6 \
	VMULPS      actConst<>+c_minus2(SB), Y1, Y1 \
	EXPNEG(Y1, Y2, Y3, Y4, Y5) \
	VSUBPS      Y1, Y15, Y2 \
	VADDPS      Y15, Y1, Y3 \
	VDIVPS      Y3, Y2, Y2 \
	VANDPS      actConst<>+c_sign(SB), x, Y3 \
	VORPS       Y3, Y2, Y2 \
	VMULPS      x, x, Y4 \
	VMOVUPS     actConst<>+c_t0(SB), Y5 \
	VFMADD213PS actConst<>+c_t1(SB), Y4, Y5 \
	VFMADD213PS actConst<>+c_t2(SB), Y4, Y5 \
	VFMADD213PS actConst<>+c_t3(SB), Y4, Y5 \
	VFMADD213PS actConst<>+c_t4(SB), Y4, Y5 \
	VMULPS      Y4, Y5, Y5 \
	VFMADD213PS x, x, Y5 \
	VORPS       Y3, Y5, Y5 \
	VBLENDVPS   Y6, Y5, Y2, y

// func sigmoidAVX2(dst, src *float32, n int)
//
// DI dst, SI src, CX elements left; Y15 1.0 and Y14 ln(2^-126) in every lane, Y13 the
// mask of the tail; each step computes 8 lanes of Y0.
TEXT ·sigmoidAVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS actConst<>+c_one(SB), Y15
	VBROADCASTSS actConst<>+c_minA(SB), Y14
	CMPQ         CX, $8
	JB           sigtail

sigloop:
	VMOVUPS (SI), Y0
	SIGMOID(Y0, Y0)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     sigloop

sigtail:
	TESTQ      CX, CX
	JZ         sigdone
	LEAQ       actMask<>+32(SB), AX
	SHLQ       $2, CX
	SUBQ       CX, AX
	VMOVUPS    (AX), Y13
	VMASKMOVPS (SI), Y13, Y0
	SIGMOID(Y0, Y0)
	VMASKMOVPS Y0, Y13, (DI)

sigdone:
	VZEROUPPER
	RET

// func tanhAVX2(dst, src *float32, n int)
//
// DI dst, SI src, CX elements left; Y15 1.0 and Y14 ln(2^-126) in every lane, Y13 the
// mask of the tail; each step computes 8 lanes of Y0.
TEXT ·tanhAVX2(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS actConst<>+c_one(SB), Y15
	VBROADCASTSS actConst<>+c_minA(SB), Y14
	CMPQ         CX, $8
	JB           tanhtail

tanhloop:
	VMOVUPS (SI), Y0
	TANH(Y0, Y0)
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	CMPQ    CX, $8
	JAE     tanhloop

tanhtail:
	TESTQ      CX, CX
	JZ         tanhdone
	LEAQ       actMask<>+32(SB), AX
	SHLQ       $2, CX
	SUBQ       CX, AX
	VMOVUPS    (AX), Y13
	VMASKMOVPS (SI), Y13, Y0
	TANH(Y0, Y0)
	VMASKMOVPS Y0, Y13, (DI)

tanhdone:
	VZEROUPPER
	RET
