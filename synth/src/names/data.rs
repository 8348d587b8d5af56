//! Name frequency tables, written as data. Each table is whitespace-separated `Name` or
//! `Name:weight` entries in descending frequency; an entry without a weight gets a Zipf weight
//! from its rank. English surname weights approximate counts per 100,000 in Great Britain
//! (ONS/Forebears order of magnitude); the other tables are rank-ordered only [assumption].
//! Multi-word names use `_` for a space.

/// English and Welsh surnames with approximate weights per 100,000.
pub const SURNAMES_ENGLISH: &str = "
Smith:1150 Jones:750 Williams:570 Taylor:520 Brown:470 Davies:430 Evans:340 Wilson:330
Thomas:310 Johnson:290 Roberts:290 Robinson:270 Thompson:270 Wright:260 Walker:250 White:240
Edwards:230 Hughes:230 Green:220 Hall:220 Lewis:210 Harris:210 Clarke:200 Jackson:190 Wood:190
Turner:180 Martin:180 Cooper:180 Hill:180 Ward:170 Morris:170 Moore:170 Clark:170 Lee:160
King:160 Baker:160 Harrison:160 Morgan:150 Allen:150 James:150 Scott:150 Phillips:140 Watson:140
Davis:140 Parker:130 Price:130 Bennett:130 Young:130 Griffiths:130 Mitchell:130 Cook:130
Carter:120 Richardson:120 Bailey:120 Bell:120 Shaw:120 Miller:120 Cox:110 Richards:110
Marshall:110 Anderson:110 Simpson:110 Ellis:110 Adams:110 Wilkinson:100 Foster:100 Chapman:100
Powell:100 Webb:100 Rogers:100 Gray:100 Mason:100 Hunt:90 Matthews:90 Owen:90 Palmer:90
Holmes:90 Mills:90 Barnes:90 Knight:90 Lloyd:90 Butler:90 Russell:90 Barker:90 Fisher:85
Stevens:85 Jenkins:85 Dixon:85 Harvey:85 Graham:80 Pearson:80 Fletcher:80 Gibson:80 Howard:80
Andrews:80 Elliott:75 Reynolds:75 Saunders:75 Payne:75 Fox:75 Ford:75 Pearce:70 Day:70
Brooks:70 West:70 Lawrence:70 Cole:70 Atkinson:70 Bradley:70 Spencer:70 Dawson:65 Ball:65
Burton:65 Watts:65 Rose:65 Booth:65 Perry:65 Wells:60 Armstrong:60 Rees:60 Hayes:60 Hart:60
Hudson:60 Newman:60 Barrett:60 Webster:60 Hunter:60 Gregory:55 Carr:55 Lowe:55 Page:55
Marsh:55 Riley:55 Dunn:55 Woods:55 Parsons:55 Berry:55 Stone:55 Holland:50 Hawkins:50
Harding:50 Porter:50 Newton:50 Oliver:50 Reed:50 Williamson:50 Bird:50 Gardner:50 Dean:50
Lane:50 Cooke:50 Bates:50 Parry:50 Burgess:50 Bishop:50 Walton:50 Nicholson:45 Shepherd:45
Cross:45 Long:45 Freeman:45 Warren:45 Nicholls:45 Sutton:45 Yates:45 Hodgson:45 Robson:45
Curtis:45 Hopkins:45 Harper:40 Coleman:40 Watkins:40 Moss:40 Chambers:40 Sharp:40 Hardy:40
Wheeler:40 Potter:40 Osborne:40 George:40 Jordan:40 Hutchinson:40 Rowe:40 May:40 Pritchard:40
Gilbert:40 Willis:40 Read:40 Miles:40 Stephenson:40 Hammond:40 Arnold:40 Buckley:40 Walters:40
Hewitt:40 Barber:40 Nelson:40 Slater:40 Austin:40 Whitehead:40 Mann:40 Frost:40 Lambert:40
Stephens:40 Blake:40 Goodwin:35 Barton:35 Woodward:35 Barnett:35 Baxter:35 Clayton:35 Nash:35
Greenwood:35 Jennings:35 Holt:35 Kemp:35 Poole:35 Bond:35 Stokes:35 Tucker:35 Fowler:35
Heath:35 Norman:35 Middleton:35 Lawson:35 Banks:35 French:35 Stanley:35 Jarvis:35 Gibbs:35
Hayward:35 Dickinson:35 Todd:35 Barlow:35 Peters:35 Lucas:35 Knowles:35 Hartley:35 Simmons:30
Morton:30 Field:30 Norris:30 Townsend:30 Preston:30 Hancock:30 Thornton:30 Baldwin:30
Burrows:30 Briggs:30 Storey:30 Pollard:30 Howell:30 Bradshaw:30 Swift:30 Cartwright:30
Birch:30 Hurst:30 Kirby:30 Leigh:25 Dale:25 Ashton:25 Platt:25 Hulme:25 Leach:25 Mellor:25
Whittaker:25 Lees:25 Pickering:25 Massey:20 Dutton:20 Beckett:20 Venables:15 Bebbington:15
Brereton:15 Lowndes:15 Cheshire:10 Shufflebotham:8 Heaton-Harris:5 Smith-Jones:5
";

/// Toponymic surname parts combined into a long tail of plausible English surnames, so that
/// name + date-of-birth collisions are rare as in reality rather than frequent.
pub const SURNAME_HEADS: &str = "
Ash Black Brad Bram Brook Cal Chad Clif Cold Crow Dal Dun Farn Gold Green Hal Hart Hay Hol
Kirk Lang Mar Mid Nor Ox Pen Rad Ram Red Rox Shel Sher Stan Stock Thorn Wat Wes Whit Win Wood
Ack Ald Ben Bur Cas Dray Ed Elm Fen Gar Grim Had Heb Ing Kel Lid Lock Mal Nether Pick Pres
Ruth Sal Sed Shap Tad Thurl Up Wal Wig Wy
";

/// Endings for [`SURNAME_HEADS`].
pub const SURNAME_TAILS: &str = "
ley ton worth field ford by ham well wood den bury stead more brook shaw croft dale hurst stone
wick cliffe thwaite bridge combe
";

/// Irish and Scottish surnames.
pub const SURNAMES_CELTIC: &str = "
Murphy Kelly O'Brien Byrne Ryan O'Connor O'Neill Doyle McCarthy Gallagher Walsh McDonald
MacDonald Campbell Stewart Kennedy Quinn Brennan Donnelly McGrath McLaughlin Sweeney Flanagan
Duffy McLean MacLeod McKenzie Mackenzie Fraser Reid Murray Robertson Ross Hamilton Johnston
Gordon Wallace Burke Lynch Sullivan Cunningham Ferguson Douglas Carroll Higgins Moran Fitzgerald
O'Sullivan McKay Boyle Devlin Kavanagh Nolan
";

/// Polish surnames (masculine forms; `-ski`/`-cki` become `-ska`/`-cka` for women).
pub const SURNAMES_POLISH: &str = "
Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański Woźniak
Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski Nowakowski
Pawłowski Michalski Król Wieczorek Jabłoński Wróbel
";

/// Romanian, Lithuanian and Portuguese surnames.
pub const SURNAMES_OTHER_EUROPEAN: &str = "
Popescu Ionescu Popa Stan Dumitru Stoica Gheorghe Matei Constantin Munteanu Kazlauskas
Jankauskas Petrauskas Silva Santos Ferreira Pereira Oliveira Costa Rodrigues Horvat Novak
";

/// Pakistani and Bangladeshi surnames.
pub const SURNAMES_SOUTH_ASIAN_MUSLIM: &str = "
Khan Ali Ahmed Hussain Shah Iqbal Mahmood Rahman Islam Uddin Miah Chowdhury Malik Butt Aslam
Riaz Sheikh Qureshi Mirza Anwar Rashid Javed Hassan Siddique Raja Haq Ahmad Akram Nawaz
";

/// Surnames South Asian Muslim women often hold whatever the household's surname.
pub const SURNAMES_SOUTH_ASIAN_WOMEN: &str = "Begum Bibi Akhtar Khatun";

/// Indian (Gujarati, Punjabi and other) surnames.
pub const SURNAMES_INDIAN: &str = "
Patel Singh Sharma Kumar Gill Sandhu Dhillon Mistry Parmar Chauhan Shah Mehta Joshi Desai Gupta
Bains Sidhu Grewal Rai Thakrar Lad Modi Naik Pandya Kaur
";

/// Chinese surnames.
pub const SURNAMES_CHINESE: &str = "
Wang Li Zhang Chen Liu Yang Huang Zhao Wu Zhou Lin Chan Wong Cheung Lam Ng Ho Leung Lau Tang
Yip Lee
";

/// West African surnames.
pub const SURNAMES_WEST_AFRICAN: &str = "
Okafor Adeyemi Adebayo Okonkwo Eze Nwosu Ogunleye Bello Mensah Osei Boateng Asante Owusu Appiah
Agyeman Adjei Afolabi Balogun Ojo Olawale Okeke Chukwu Danso Acheampong
";

/// Somali, Eritrean and Ethiopian surnames.
pub const SURNAMES_EAST_AFRICAN: &str = "
Mohamed Abdi Hassan Ali Ahmed Yusuf Ibrahim Osman Omar Farah Warsame Hussein Jama Aden Tesfay
Gebre Haile
";

/// Caribbean surnames.
pub const SURNAMES_CARIBBEAN: &str = "
Campbell Brown Williams Thomas Grant Francis Clarke Morgan Reid Gordon Henry Johnson Lewis
Richards Spencer Stewart Thompson Edwards Gayle Bailey
";

/// Arab, Iranian, Afghan, Kurdish and Turkish surnames.
pub const SURNAMES_MIDDLE_EASTERN: &str = "
Hassan Ali Mohamed Ahmed Ibrahim Saleh Haddad Khalil Nasser Mansour Hamid Karimi Rahimi
Hosseini Ahmadi Mohammadi Aziz Yilmaz Kaya Demir Sahin Celik
";

/// English male forenames born before 1955.
pub const MALE_1: &str = "
John David Michael Peter Robert Anthony Brian Alan William James Kenneth Thomas Ronald George
Keith Derek Roy Dennis Raymond Colin Geoffrey Trevor Barry Terence Frank Stanley Leonard Harold
Arthur Albert Ernest Frederick Gordon Norman Eric Donald Graham Malcolm Roger Richard
Christopher Stephen
";
/// English male forenames born 1955–1974.
pub const MALE_2: &str = "
David Paul Andrew Mark John Michael Stephen Ian Robert Richard Christopher Peter Simon Anthony
Kevin Gary Steven Martin James Philip Alan Neil Nigel Timothy Colin Graham Jonathan Nicholas
William Keith Darren Jason Dean Lee Wayne Shaun Craig Carl Russell Stuart
";
/// English male forenames born 1975–1994.
pub const MALE_3: &str = "
Christopher Matthew James David Daniel Michael Andrew Richard Mark Paul Thomas Adam Robert John
Lee Benjamin Steven Jonathan Craig Stephen Simon Nicholas Peter Anthony Alexander Gary Ian Ryan
Luke Jamie Samuel Scott Ashley Carl Martin Sean Darren Liam Dean Gareth Kieran Jordan Nathan
Joshua
";
/// English male forenames born 1995–2009.
pub const MALE_4: &str = "
Jack Thomas Joshua James Daniel Samuel Oliver William Benjamin Joseph Harry Matthew Lewis Luke
Ethan George Adam Alexander Ryan Jake Callum Liam Connor Charlie Kieran Jordan Nathan Tyler
Bradley Kyle Cameron Jamie Owen Alfie Dylan Max Reece Aaron Harvey Declan
";
/// English male forenames born 2010 and later.
pub const MALE_5: &str = "
Oliver George Harry Noah Jack Leo Arthur Oscar Charlie Jacob Thomas Henry William Freddie Alfie
Theo Archie Joshua James Isaac Teddy Finley Alexander Lucas Edward Max Tommy Reggie Albie Louie
Arlo Hugo Ethan Elijah Sonny Ronnie Rory Jaxon Mason
";
/// English female forenames born before 1955.
pub const FEMALE_1: &str = "
Margaret Patricia Mary Jean Joan Barbara Susan Elizabeth Christine Sheila Valerie Brenda Sandra
Janet Pauline Maureen Kathleen Doreen Irene Dorothy Eileen Joyce Marjorie Sylvia Betty Audrey
Ann Anne Linda Carol Gillian Shirley Hazel Iris Edna Vera Rita June
";
/// English female forenames born 1955–1974.
pub const FEMALE_2: &str = "
Susan Julie Karen Jacqueline Deborah Tracey Jane Helen Diane Sharon Alison Elizabeth Amanda
Sarah Nicola Joanne Catherine Lisa Angela Caroline Wendy Dawn Lynn Carol Gillian Michelle Kim
Jayne Beverley Tina Denise Janet Ann Claire Mandy Kathryn Lorraine
";
/// English female forenames born 1975–1994.
pub const FEMALE_3: &str = "
Sarah Emma Claire Laura Rebecca Gemma Nicola Kelly Rachel Lisa Amy Louise Michelle Samantha
Hannah Katie Stacey Jennifer Victoria Lauren Jessica Charlotte Zoe Hayley Kirsty Natalie
Danielle Leanne Joanne Kerry Jodie Stephanie Catherine Elizabeth Amanda Helen Katherine Sophie
Jade Donna
";
/// English female forenames born 1995–2009.
pub const FEMALE_4: &str = "
Chloe Emily Jessica Megan Sophie Charlotte Lauren Hannah Olivia Ellie Amy Rebecca Bethany Katie
Georgia Lucy Abigail Emma Holly Grace Eleanor Jade Molly Paige Shannon Amber Courtney Rachel
Laura Leah Caitlin Niamh Jasmine Ella Phoebe Millie Isabella Lily Mia Evie
";
/// English female forenames born 2010 and later.
pub const FEMALE_5: &str = "
Olivia Amelia Isla Ava Lily Freya Mia Isabella Sophia Ivy Grace Florence Evie Poppy Ella Willow
Rosie Emily Harper Sienna Daisy Elsie Charlotte Alice Matilda Evelyn Isabelle Sophie Phoebe
Millie Layla Ruby Maya Aria Esme Eva Hallie Luna Bonnie Thea
";
/// Irish forenames (male).
pub const MALE_CELTIC: &str =
    "Sean Patrick Ciaran Declan Niall Conor Eoin Padraig Cormac Fergal Aidan Cathal Darragh Oisin";
/// Irish forenames (female).
pub const FEMALE_CELTIC: &str =
    "Aoife Siobhan Niamh Ciara Roisin Orla Mairead Bridget Sinead Grainne";
/// Polish forenames (male).
pub const MALE_POLISH: &str = "Jakub Piotr Krzysztof Tomasz Paweł Michał Marcin Łukasz Mateusz Kamil Adam Dawid Szymon Bartosz";
/// Polish forenames (female).
pub const FEMALE_POLISH: &str = "
Anna Katarzyna Agnieszka Magdalena Joanna Monika Aleksandra Natalia Marta Karolina Zuzanna Julia
Maja Wiktoria Ewa
";
/// Romanian, Lithuanian and Portuguese forenames (male).
pub const MALE_OTHER_EUROPEAN: &str =
    "Andrei Ionuț Alexandru Mihai Gabriel Florin Cristian Tomas Lukas Jonas João Pedro Tiago";
/// Romanian, Lithuanian and Portuguese forenames (female).
pub const FEMALE_OTHER_EUROPEAN: &str =
    "Maria Elena Ioana Andreea Alexandra Gabriela Mihaela Ieva Greta Ana Beatriz Inês";
/// Pakistani and Bangladeshi forenames (male).
pub const MALE_SOUTH_ASIAN_MUSLIM: &str = "
Mohammed Muhammad Mohammad Ahmed Ali Hassan Imran Usman Bilal Adnan Zain Ibrahim Yusuf Omar
Hamza Abdul Tariq Asif Shahid Kamran Faisal Zubair Amir Rizwan
";
/// Pakistani and Bangladeshi forenames (female).
pub const FEMALE_SOUTH_ASIAN_MUSLIM: &str = "
Fatima Aisha Ayesha Maryam Zainab Sana Amina Hina Nadia Saima Shazia Nasreen Rukhsana Samina
Farah Sadia Iqra Hafsa Khadija Zara Safiya Inaya Haleema
";
/// Indian forenames (male).
pub const MALE_INDIAN: &str = "
Raj Rajesh Sanjay Amit Vikram Arjun Rohan Harpreet Gurpreet Jaspreet Manjit Sukhdev Kiran
Deepak Anil Suresh Ravi Nikhil Aarav Dev
";
/// Indian forenames (female).
pub const FEMALE_INDIAN: &str = "
Priya Anjali Sunita Neha Pooja Meena Kavita Harpreet Gurpreet Jaspreet Simran Manpreet Asha
Nisha Divya Shreya Anika Riya Aanya
";
/// Chinese forenames (male).
pub const MALE_CHINESE: &str = "Wei Jun Hao Ming Jian Lei Kevin Jason Eric Tony Chi_Wai";
/// Chinese forenames (female).
pub const FEMALE_CHINESE: &str = "Mei Li Xin Yan Ying Hui Jenny Grace Amy Lily Siu_Ling";
/// West African forenames (male).
pub const MALE_WEST_AFRICAN: &str = "
Oluwaseun Chukwuemeka Emeka Tunde Kwame Kofi Kwabena Yaw Samuel Emmanuel David Daniel Joshua
Michael Victor Femi Chidi
";
/// West African forenames (female).
pub const FEMALE_WEST_AFRICAN: &str = "
Adaeze Chioma Ngozi Funmilayo Abena Akosua Ama Esther Grace Blessing Favour Precious Mercy Joy
Yewande Temitope
";
/// Somali, Eritrean and Ethiopian forenames (male).
pub const MALE_EAST_AFRICAN: &str =
    "Abdi Mohamed Ahmed Ali Hassan Abdirahman Abdullahi Omar Yusuf Ibrahim Dawit Yonas";
/// Somali, Eritrean and Ethiopian forenames (female).
pub const FEMALE_EAST_AFRICAN: &str =
    "Fadumo Hodan Amina Ayan Sahra Hawa Muna Ifrah Nasra Ubah Selam Hiwot";
/// Arab, Iranian, Afghan, Kurdish and Turkish forenames (male).
pub const MALE_MIDDLE_EASTERN: &str =
    "Ahmad Mohammad Omar Ali Hussein Karim Sami Khalid Mustafa Reza Amir Mehmet Emre";
/// Arab, Iranian, Afghan, Kurdish and Turkish forenames (female).
pub const FEMALE_MIDDLE_EASTERN: &str =
    "Layla Noor Mariam Sara Huda Rana Zahra Leila Fatemeh Elif Shirin";

/// Formal forenames and the informal forms people are known by (a person known by a nickname
/// has it in some agencies' records).
pub const NICKNAMES: &str = "
Robert:Bob,Rob,Bobby William:Bill,Will,Billy James:Jim,Jimmy,Jamie Michael:Mike,Mick
Thomas:Tom,Tommy Richard:Rick,Dick,Richie Elizabeth:Liz,Beth,Lizzie Margaret:Maggie,Peggy,Meg
Katherine:Kate,Kathy Catherine:Cathy,Kate Jennifer:Jenny,Jen Christopher:Chris Daniel:Dan,Danny
Joseph:Joe Anthony:Tony Stephen:Steve Steven:Steve Alexander:Alex Samuel:Sam Benjamin:Ben
Matthew:Matt Andrew:Andy,Drew David:Dave Edward:Ed,Ted,Eddie Jonathan:Jon Nicholas:Nick,Nicky
Patrick:Pat,Paddy Peter:Pete Rebecca:Becky,Becca Susan:Sue,Suzy Deborah:Debbie,Debs
Victoria:Vicky,Tori Charlotte:Charlie,Lottie Samantha:Sam Jessica:Jess Alexandra:Alex,Lexi
Kimberley:Kim Joshua:Josh Nathan:Nate Frederick:Fred,Freddie Kenneth:Ken,Kenny Ronald:Ron,Ronnie
Raymond:Ray Terence:Terry Leonard:Len Albert:Bert Frederick:Fred Gillian:Gill Patricia:Pat,Trish
Jacqueline:Jackie Christine:Chris Pauline:Polly Dorothy:Dot Barbara:Babs Valerie:Val
Timothy:Tim Philip:Phil Gareth:Gaz Gary:Gaz Darren:Daz Callum:Cal Harvey:Harv Jacob:Jake
Oliver:Ollie Henry:Harry Isabella:Bella,Izzy Amelia:Millie Eleanor:Ellie Abigail:Abbie
Mohammed:Mo Muhammad:Mo Oluwaseun:Seun Chukwuemeka:Emeka Funmilayo:Funmi Aleksandra:Ola
Katarzyna:Kasia Małgorzata:Gosia Krzysztof:Krzys Jakub:Kuba Mateusz:Mateo
";

/// Groups of spellings of the same name, as clerks and systems record them.
pub const VARIANTS: &str = "
Mohammed,Muhammad,Mohammad,Mohamed,Mohamad Ahmed,Ahmad Hussain,Hussein,Husain
Chowdhury,Choudhury,Chaudhry Stephen,Steven Philip,Phillip Catherine,Katherine,Kathryn
Sean,Shaun,Shawn Rebecca,Rebekah Sarah,Sara Zoe,Zoey Ann,Anne Claire,Clare Geoffrey,Jeffrey
Alan,Allan,Allen Matthew,Mathew Thompson,Thomson McDonald,MacDonald,Mcdonald Davies,Davis
Clarke,Clark Reid,Read,Reed Gray,Grey Stevens,Stephens Phillips,Philips Mackenzie,McKenzie
Nicholls,Nichols Dean,Deane Lewis,Louis Jayne,Jane Kerry,Kerri Hayley,Haley Leanne,Lianne
Jodie,Jodi Nicola,Nichola Tracey,Tracy Lindsay,Lindsey Carl,Karl Mark,Marc Neil,Neal
Jamie,Jaime Aaron,Aron Kieran,Ciaran,Keiran Connor,Conor Jake,Jack Yusuf,Yousef,Youssef
Abdi,Abdy Fatima,Fatimah Aisha,Ayesha,Aysha Zainab,Zaynab Iqbal,Ikbal Khan,Kahn
O'Brien,OBrien,O_Brien O'Connor,OConnor O'Neill,ONeill,O'Neil Begum,Begom Miah,Mia
";

/// Fictional town names, one per postcode district.
pub const TOWNS: &str = "
Astbridge Brereley Coldmere Dunham_Moss Elton_Vale Fenwick Goosehurst Hatherley Irlam_Green
Knottsford Lymbridge Marbury Norbury_Heath Oakhanger Pickmere_Cross Rudheath_Vale Saltwich
Tarvington Utkinton_Green Wrenbury_Moor Wybunbury_Cross Yeardsley
";

/// Street-name roots.
pub const STREET_ROOTS: &str = "
Oak Church Station Mill Park Victoria Queens Kings High Chester London Manchester Green Meadow
Springfield Grange Orchard Beech Ash Elm Willow Hawthorn Chapel School Mount North South West
East New Old_Hall Moss Heath Brook Bridge Castle Abbey Well Windmill Water Marsh Farm Field Lime
Cedar Holly Rowan Sycamore Laburnum Poplar Cherry Albert Alexandra Edward George Princess Regent
Clarence Stanley Gladstone Nelson Wellington Cromwell Cavendish Grosvenor Egerton Tatton
Delamere Vale_Royal Sandy Crossley Bollin Dane Weaver Wheelock Gorse Heather Bracken Fern
Primrose Bluebell Foxglove Lark Kestrel Swallow Wren Curlew
";

/// Street-name endings.
pub const STREET_SUFFIXES: &str = "
Road:30 Street:20 Lane:14 Avenue:10 Close:10 Drive:8 Way:5 Crescent:5 Grove:4 Place:3
Gardens:3 Court:2 Terrace:3 View:2 Rise:2 Walk:1 Mews:1
";

/// Pub names (public places where assaults happen).
pub const PUBS: &str = "
Red_Lion Royal_Oak White_Hart Crown George Bulls_Head Swan Plough Black_Horse Kings_Arms Ship
Bell Wheatsheaf Rising_Sun Fox_and_Hounds Greyhound Railway Globe Bears_Paw Boot_and_Slipper
";
